/**
 * WORKERS=2: a primary migrates and bootstraps once, then two processes share one port
 * (`reusePort`) on Postgres; SIGTERM to the primary stops both and exits 0.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { freePort } from '../helpers/ports';

let pg: TestDatabase;
let server: RunningServer;
beforeAll(async () => {
  pg = await createTestDatabase();
  server = await startServer({ env: { WORKERS: '2', DATABASE_URL: pg.url, PORT: String(await freePort()) } });
});
afterAll(async () => {
  await server?.close();
  await pg?.drop();
});

test('two processes serve the same port; bootstrap ran once', async () => {
  // Wait until both workers have logged `listening`.
  for (let i = 0; i < 100 && server.logs.filter((l) => l.msg === 'listening').length < 2; i++) await Bun.sleep(100);
  const listening = server.logs.filter((l) => l.msg === 'listening');
  expect(listening).toHaveLength(2);
  expect(new Set(listening.map((l) => l.port))).toEqual(new Set([server.port]));
  expect(new Set(listening.map((l) => l.pid)).size).toBe(2);
  expect(server.logs.filter((l) => l.bootstrap)).toHaveLength(1);
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/health`).then((r) => r.status)));
  expect(answers.every((s) => s === 200)).toBe(true);
});

test('SIGTERM to the primary stops every worker and exits 0', async () => {
  expect(await server.stop('SIGTERM')).toBe(0);
  expect(server.logs.filter((l) => l.msg === 'stopped')).toHaveLength(2);
});
