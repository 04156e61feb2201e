/**
 * Request logs under pressure (issue #8 acceptance 2, last part): while another connection holds
 * an exclusive lock on `request_log_batches` (a stalled database), authenticated requests still complete,
 * the bounded buffer fills, and the overflow shows up in `/metrics` as
 * `pictor_request_logs_dropped_total`. Every request is either written or counted as dropped.
 * Postgres only: holding the lock needs a second connection, which embedded PGlite does not
 * have (the buffer logic itself is covered on its own in src/modules/logs/unit.test.ts).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import postgres from 'postgres';
import { bootstrapAdmin } from '../../src/modules/admin/bootstrap';
import { requestLogBuffer } from '../../src/modules/logs/routes';
import { makeTestApp, type TestApp } from '../helpers/app';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';

const TOKEN = 'drop-test-metrics-token-123';
const CAPACITY = 5;
let h: TestApp;
let key: string;

beforeAll(async () => {
  h = await makeTestApp({ db: 'postgres', env: { METRICS_TOKEN: TOKEN, REQUEST_LOG_BUFFER: String(CAPACITY) } });
  key = (await bootstrapAdmin(h.deps))!.apiKey;
}, 60_000);
afterAll(() => h?.close());

const dropped = async () => {
  const r = await h.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  return sampleValue(parsePrometheus(await r.text()), 'pictor_request_logs_dropped_total') ?? NaN;
};

test('a full buffer drops and counts instead of blocking requests', async () => {
  expect(await dropped()).toBe(0);
  const locker = postgres(h.deps.config.databaseUrl!, { max: 1, onnotice: () => {} });
  let unlock!: () => void;
  const held = new Promise<void>((r) => (unlock = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = locker.begin(async (sql) => {
    await sql`lock table request_log_batches in access exclusive mode`;
    locked();
    await held;
  });
  await isLocked;

  const N = 40;
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await h.request(`/api/files?q=${i}`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
  }
  const elapsed = performance.now() - started;
  await Bun.sleep(20); // after-response hooks
  requestLogBuffer(h.deps).flush().catch(() => {}); // the writer now blocks on the lock, holding its batch
  await Bun.sleep(20);
  const droppedWhileLocked = await dropped();
  expect(droppedWhileLocked).toBeGreaterThanOrEqual(N - CAPACITY);
  expect(elapsed).toBeLessThan(10_000); // nothing waited for the locked table

  unlock();
  await tx;
  await locker.end();
  await requestLogBuffer(h.deps).flush();
  const written = await h.request('/api/logs?limit=200', { headers: { authorization: `Bearer ${key}` } });
  const body = (await written.json()) as { count: number };
  // Every logged request is in the table or in the drop counter; the listing itself comes after.
  expect(body.count + droppedWhileLocked).toBe(N);
  expect(await dropped()).toBe(droppedWhileLocked);
}, 60_000);
