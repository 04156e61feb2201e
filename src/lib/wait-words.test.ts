import { expect, test } from 'bun:test';
import { waitWords } from './wait-words';

test('a wait reads in the largest unit that keeps it short, rounded up', () => {
  expect(waitWords(0.4)).toBe('1 second');
  expect(waitWords(1.2)).toBe('2 seconds');
  expect(waitWords(89.2)).toBe('90 seconds');
  expect(waitWords(90)).toBe('2 minutes');
  expect(waitWords(5399)).toBe('90 minutes');
  expect(waitWords(5400)).toBe('2 hours');
});
