/** Spans of time in the app read in the unit that names them: 172800 s is "2 days" (it read "172800 seconds"). */
import { expect, test } from 'bun:test';
import { formatSpan } from '../../web/src/api';

test('a span is named in its largest exact unit', () => {
  expect([172_800, 3600, 5400, 90, 45, 7 * 86_400, 14 * 86_400, 365 * 86_400, 86_401].map(formatSpan)).toEqual([
    '2 days', '1 hour', '90 minutes', '90 seconds', '45 seconds', '1 week', '2 weeks', '1 year', '86401 seconds',
  ]);
});

test('a size under 1 KiB is whole bytes: an upload speed is a fraction', async () => {
  const { formatBytes } = await import('../../web/src/api');
  // It read "254.23728813556534 B/s".
  expect([254.23728813556534, 0, 1023.6, 2048].map(formatBytes)).toEqual(['254 B', '0 B', '1.0 KiB', '2.0 KiB']);
});
