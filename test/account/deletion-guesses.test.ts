/**
 * `DELETE /api/account` with a password counts in the `sensitive` bucket, as change-password
 * does: a leaked API key with `account:write` could otherwise guess the password at the API's
 * own rate (~1 200 a minute), each guess an argon2 hash of the server's CPU.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../helpers/app';
import { seedUser, type SeededUser } from '../helpers/seed';

let h: TestApp;
let user: SeededUser;
beforeAll(async () => {
  h = await makeTestApp({ env: { RATE_LIMIT_SENSITIVE: '3/15m' } });
  user = await seedUser(h.deps);
});
afterAll(() => h?.close());

test('wrong passwords on account deletion are limited (429 after the bucket is spent), and nothing is deleted', async () => {
  const guess = async (password: string) => {
    const res = await h.request('/api/account', { method: 'DELETE', headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    return [res.status, ((await res.json()) as { error: string }).error];
  };
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await guess(`guess ${i}`));
  expect(answers).toEqual([[400, 'VALIDATION_ERROR'], [400, 'VALIDATION_ERROR'], [400, 'VALIDATION_ERROR'], [429, 'RATE_LIMITED']]);
  const profile = await h.request('/api/profile', { headers: { authorization: `Bearer ${user.key}` } });
  expect(profile.status).toBe(200);
});
