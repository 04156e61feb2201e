/** `/api/reference/for-agents`: what an automated client reads first, in the API's own naming. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp({ env: { RATE_LIMIT_UPLOAD_COUNT: '7/1m' } });
}, 60_000);
afterAll(() => h?.close());

test('rate limits are {limit, window_seconds} as in the account plan (they were the config\'s {max, windowMs})', async () => {
  const agents = (await (await h.request('/api/reference/for-agents')).json()) as { limits: { rate_limits: Record<string, unknown> } };
  expect(agents.limits.rate_limits.upload_count).toEqual({ limit: 7, window_seconds: 60 });
  for (const [bucket, rule] of Object.entries(agents.limits.rate_limits)) expect([bucket, Object.keys(rule as object)]).toEqual([bucket, ['limit', 'window_seconds']]);
});
