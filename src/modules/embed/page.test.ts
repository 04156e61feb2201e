/** The embed page writes sizes as the web app does (binary units, binary names): the same file read 77 KB in one and 79.3 KB in the other. */
import { expect, test } from 'bun:test';
import { formatBytes as inTheApp } from '../../../web/src/api';
import { formatBytes } from './page';

test('a size reads the same on the embed page as in the web app', () => {
  for (const n of [0, 1, 1023, 1024, 79_300, 1_048_575, 5 * 1024 ** 2 + 1, 3 * 1024 ** 3, 2 ** 50]) expect([n, formatBytes(n)]).toEqual([n, inTheApp(n)]);
  expect(formatBytes(79_300)).toBe('77 KiB');
  expect(formatBytes(1536)).toBe('1.5 KiB');
});
