/**
 * Refreshes count in their own per-IP bucket (`refresh`). In `sensitive`, with password guesses
 * and 30 per 15 minutes, an office's open tabs behind one address spent it and were signed out,
 * and one person guessing a password there signed everyone out.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../helpers/app';
import { seedUser, type SeededUser } from '../helpers/seed';

let h: TestApp;
let user: SeededUser;
beforeAll(async () => {
  h = await makeTestApp({ env: { RATE_LIMIT_SENSITIVE: '2/15m', RATE_LIMIT_REFRESH: '3/15m' } });
  user = await seedUser(h.deps);
}, 60_000);
afterAll(() => h?.close());

const refresh = async () => {
  const res = await h.request('/api/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: 'not-a-token' }) });
  const body = (await res.json()) as { error: string; details?: { bucket?: string } };
  return { status: res.status, bucket: body.details?.bucket ?? null, limit: res.headers.get('x-ratelimit-limit') };
};

test('password guesses spending `sensitive` leave refreshes alone; refreshes spend `refresh`, up to its limit', async () => {
  for (let i = 0; i < 3; i++) {
    await h.request('/api/account', { method: 'DELETE', headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: `guess ${i}` }) });
  }
  const spent = await h.request('/api/account', { method: 'DELETE', headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'guess' }) });
  expect(spent.status).toBe(429); // `sensitive` is spent for this address

  // A made-up token is a 401: refused by what it is, not by the guesses beside it.
  const answers = [await refresh(), await refresh(), await refresh(), await refresh()];
  expect(answers).toEqual([
    { status: 401, bucket: null, limit: '3' },
    { status: 401, bucket: null, limit: '3' },
    { status: 401, bucket: null, limit: '3' },
    { status: 429, bucket: 'refresh', limit: '3' },
  ]);
});
