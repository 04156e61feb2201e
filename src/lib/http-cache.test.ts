/** The one conditional-request rule of originals, derivatives and remote sources. */
import { describe, expect, test } from 'bun:test';
import { isNotModified, matchesEtag } from './http-cache';

describe('matchesEtag', () => {
  test('strong, weak, listed and `*` match; others and an absent header do not', () => {
    expect(matchesEtag('"a"', '"a"')).toBe(true);
    expect(matchesEtag('W/"a"', '"a"')).toBe(true);
    expect(matchesEtag('"x", W/"a" ', '"a"')).toBe(true);
    expect(matchesEtag(' * ', '"a"')).toBe(true);
    expect(matchesEtag('"b"', '"a"')).toBe(false);
    expect(matchesEtag('', '"a"')).toBe(false);
    expect(matchesEtag(null, '"a"')).toBe(false);
  });
});

describe('isNotModified', () => {
  const modified = new Date('2026-01-02T03:04:05.678Z');
  const h = (init: Record<string, string>) => new Headers(init);
  test('If-None-Match decides when present, even when If-Modified-Since would say current', () => {
    expect(isNotModified(h({ 'if-none-match': '"a"' }), '"a"', modified)).toBe(true);
    expect(isNotModified(h({ 'if-none-match': '"b"', 'if-modified-since': modified.toUTCString() }), '"a"', modified)).toBe(false);
  });
  test('without it, If-Modified-Since at or after the second of the change', () => {
    expect(isNotModified(h({ 'if-modified-since': modified.toUTCString() }), '"a"', modified)).toBe(true);
    expect(isNotModified(h({ 'if-modified-since': new Date(modified.getTime() - 1000).toUTCString() }), '"a"', modified)).toBe(false);
    expect(isNotModified(h({ 'if-modified-since': 'not a date' }), '"a"', modified)).toBe(false);
    expect(isNotModified(h({}), '"a"', modified)).toBe(false);
  });
});
