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

/** The buffer's two outcomes so far, from `/metrics` (a token scrape is not itself logged). */
const outcomes = async () => {
  const r = await h.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  const families = parsePrometheus(await r.text());
  return {
    dropped: sampleValue(families, 'pictor_request_logs_dropped_total') ?? NaN,
    written: sampleValue(families, 'pictor_request_logs_written_total') ?? NaN,
  };
};
const dropped = async () => (await outcomes()).dropped;

/** Polls `check` until it holds (conditions, not sleeps: a loaded machine only makes it take longer). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

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
  // The loop finishing while the table is locked is the proof that no request waited for it.
  for (let i = 0; i < N; i++) {
    const r = await h.request(`/api/files?q=${i}`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
  }
  // Each entry is pushed just after its response. At most CAPACITY wait in the buffer and at
  // most one batch more is held by a writer blocked on the lock (the 1 s timer may have started
  // one during a slow loop); the rest must be dropped and counted.
  h.deps.requestLogs.flush().catch(() => {}); // the writer blocks on the lock, holding its batch
  await until('the overflow to be counted', async () => (await dropped()) >= N - 2 * CAPACITY);
  expect(h.deps.requestLogs.size()).toBeLessThanOrEqual(CAPACITY);
  expect((await outcomes()).written).toBe(0);

  unlock();
  await tx;
  await locker.end();
  // Every request is written or counted as dropped, once the last hooks have run.
  await until('every entry to be written or dropped', async () => {
    await h.deps.requestLogs.flush();
    const o = await outcomes();
    return o.written + o.dropped === N;
  });
  const { written, dropped: droppedTotal } = await outcomes();
  expect(droppedTotal).toBeGreaterThanOrEqual(N - 2 * CAPACITY);
  const listing = await h.request('/api/logs?limit=200', { headers: { authorization: `Bearer ${key}` } });
  // What was written is what the account can list (the listing's own entry comes after it).
  expect(((await listing.json()) as { count: number }).count).toBe(written);
}, 60_000);
