/**
 * WORKERS=2: a primary migrates and bootstraps once, then two processes share one port
 * (`reusePort`) on Postgres; `/metrics` tells the processes apart; SIGTERM to the primary stops
 * both and exits 0.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { freePort } from '../helpers/ports';
import { parsePrometheus } from '../helpers/prometheus';

const METRICS_TOKEN = 'workers-test-metrics-token';

let pg: TestDatabase;
let server: RunningServer;
beforeAll(async () => {
  pg = await createTestDatabase();
  server = await startServer({ env: { WORKERS: '2', DATABASE_URL: pg.url, PORT: String(await freePort()), METRICS_TOKEN } });
});
afterAll(async () => {
  await server?.close();
  await pg?.drop();
});

test('two processes serve the same port; bootstrap ran once', async () => {
  // Wait until both workers have logged `listening`.
  for (let i = 0; i < 600 && server.logs.filter((l) => l.msg === 'listening').length < 2; i++) await Bun.sleep(100);
  const listening = server.logs.filter((l) => l.msg === 'listening');
  expect(listening).toHaveLength(2);
  expect(new Set(listening.map((l) => l.port))).toEqual(new Set([server.port]));
  expect(new Set(listening.map((l) => l.pid)).size).toBe(2);
  expect(server.logs.filter((l) => l.bootstrap)).toHaveLength(1);
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/health`).then((r) => r.status)));
  expect(answers.every((s) => s === 200)).toBe(true);
});

test("/metrics: every series carries its process's worker label, and each worker's counters only grow", async () => {
  // A new connection per scrape, so the kernel spreads them over both processes (reusePort).
  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}`, connection: 'close' }, keepalive: false });
    expect(res.status).toBe(200);
    return parsePrometheus(await res.text());
  };
  const seen = new Map<string, number[]>(); // worker → its /metrics request count at each scrape
  for (let i = 0; i < 200 && (seen.size < 2 || i < 20); i++) {
    const families = await scrape();
    const workers = new Set<string | undefined>();
    for (const f of families.values()) for (const s of f.samples) workers.add(s.labels.worker);
    expect(workers.size).toBe(1); // one process answered, and every one of its series says which
    const worker = [...workers][0];
    expect(worker).toMatch(/^[01]$/);
    const scrapes = [...families.values()].flatMap((f) => f.samples)
      .filter((s) => s.name === 'pictor_http_requests_total' && s.labels.route === '/metrics')
      .reduce((sum, s) => sum + s.value, 0);
    seen.set(worker!, [...(seen.get(worker!) ?? []), scrapes]);
  }
  expect([...seen.keys()].sort()).toEqual(['0', '1']);
  for (const counts of seen.values()) expect(counts).toEqual([...counts].sort((a, b) => a - b));
});

test('SIGTERM to the primary stops every worker and exits 0', async () => {
  expect(await server.stop('SIGTERM')).toBe(0);
  expect(server.logs.filter((l) => l.msg === 'stopped')).toHaveLength(2);
});
