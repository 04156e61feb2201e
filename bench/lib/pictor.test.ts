import { expect, test } from 'bun:test';
import { configSchema } from '../../src/config';
import { BENCH_LIMITS } from './pictor';

// A bucket the bench leaves at its default throttles a scenario into 429s that read as the
// server's own figures (the login scenario's login_ip bucket did: 64 unexpected answers).
test('the bench raises every rate limit the server has', () => {
  const limits = Object.keys(configSchema).filter((k) => k.startsWith('RATE_LIMIT_'));
  expect(limits.length).toBeGreaterThan(5);
  expect(limits.filter((k) => !(k in BENCH_LIMITS))).toEqual([]);
});
