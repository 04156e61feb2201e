/** Path and query cut from a request URL string (http.ts, the log sanitizer and the upload routes use them). */
import { expect, test } from 'bun:test';
import { pathOf, queryOf } from './request-path';

test('pathOf: the path without the query; `/` when there is none', () => {
  expect(pathOf('http://h:3000/t/w_10/abc?x=1')).toBe('/t/w_10/abc');
  expect(pathOf('https://h/')).toBe('/');
  expect(pathOf('http://h')).toBe('/');
  expect(pathOf('http://h/a%2Fb?q=/x')).toBe('/a%2Fb');
});

test('queryOf: what follows the first `?`, empty without one', () => {
  expect(queryOf('http://h/a?tag=x&tag=y,z')).toBe('tag=x&tag=y,z');
  expect(queryOf('http://h/a?')).toBe('');
  expect(queryOf('http://h/a')).toBe('');
});
