/**
 * Acceptance 2, 3, 5 of the limiter issue, end to end: two real server processes share one
 * dedicated redis-server (started here on a free port) and enforce one combined `public`
 * limit; `X-Forwarded-For` is ignored without TRUST_PROXY and honoured for the configured hop
 * with it; when Redis is stopped mid-test requests keep being answered (limited in process),
 * `/health/ready` says `degraded`, and after Redis is back the shared limit resumes.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { startServer, type RunningServer } from '../helpers/server';
import { freePort } from '../helpers/ports';

const LIMIT = 20;

/** Starts `redis-server` on `port` and resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    proc.once('error', (err) => reject(new Error(`redis-server is required for this suite: ${err.message}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return proc;
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

let redisPort: number;
let redis: ChildProcess;
let a: RunningServer; // TRUST_PROXY unset
let b: RunningServer; // TRUST_PROXY=1

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, RATE_LIMIT_PUBLIC: `${LIMIT}/1m` };
  [a, b] = await Promise.all([startServer({ env, timeoutMs: 90_000 }), startServer({ env: { ...env, TRUST_PROXY: '1' }, timeoutMs: 90_000 })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  if (redis) await stopProcess(redis);
});

const hit = async (server: RunningServer, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.url}/i/nonexistent`, { headers });
  await res.arrayBuffer();
  return { status: res.status, remaining: res.headers.get('x-ratelimit-remaining') };
};

const readiness = async (server: RunningServer) => ((await (await fetch(`${server.url}/health/ready`)).json()) as { status: string }).status;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('two processes, one limit; forged X-Forwarded-For; Redis outage and recovery', async () => {
  await waitFor('both servers ready', async () => (await readiness(a)) === 'ok' && (await readiness(b)) === 'ok');

  // Acceptance 2: alternating between the processes, the 21st request overall is refused.
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 1; i++) statuses.push((await hit(i % 2 ? b : a)).status);
  expect(statuses.slice(0, LIMIT).every((s) => s === 404)).toBe(true);
  expect(statuses[LIMIT]).toBe(429);
  expect((await hit(b)).status).toBe(429);

  // Acceptance 5: without TRUST_PROXY a forged header changes nothing…
  expect((await hit(a, { 'x-forwarded-for': '203.0.113.50' })).status).toBe(429);
  // …with TRUST_PROXY=1 the hop in front of us is the client: a fresh budget for that address,
  // shared with the other process only where the key is the same.
  const viaProxy = await hit(b, { 'x-forwarded-for': '6.6.6.6, 203.0.113.50' });
  expect(viaProxy.status).toBe(404);
  expect(viaProxy.remaining).toBe(String(LIMIT - 1));
  expect((await hit(b, { 'x-forwarded-for': '203.0.113.51' })).remaining).toBe(String(LIMIT - 1));

  // Acceptance 3: Redis goes away mid-test.
  await stopProcess(redis);
  // Every one of these is answered while Redis is still down (it comes back only below): no hang.
  const during: { status: number }[] = [];
  for (let i = 0; i < LIMIT + 5; i++) during.push(await hit(a));
  expect(during.every((r) => r.status === 404 || r.status === 429)).toBe(true); // answered, never 500
  expect(during.slice(0, LIMIT).every((r) => r.status === 404)).toBe(true); // limited in process…
  expect(during.slice(LIMIT).every((r) => r.status === 429)).toBe(true); // …not unlimited
  expect(await readiness(a)).toBe('degraded');
  expect(a.logs.some((l) => l.msg === 'rate limiter: redis unavailable, limiting in process')).toBe(true);

  // Redis returns (empty, same port): shared limiting resumes by itself.
  redis = await startRedis(redisPort);
  await waitFor('readiness ok again', async () => (await readiness(a)) === 'ok' && (await readiness(b)) === 'ok');
  const after: number[] = [];
  // A's in-process budget is spent; if A were still limiting locally this would be 429 at once.
  for (let i = 0; i < LIMIT; i++) after.push((await hit(i % 2 ? b : a)).status);
  expect(after.every((s) => s === 404)).toBe(true);
  expect((await hit(a)).status).toBe(429);
  expect(a.logs.some((l) => l.msg === 'rate limiter: redis is back, limits are shared again')).toBe(true);
}, 90_000);

test('with Redis down, SIGTERM still stops the server (it hung for ever on an UNSUBSCRIBE queued for the reconnect)', async () => {
  await stopProcess(redis);
  await waitFor('readiness degraded', async () => (await readiness(a)) === 'degraded');
  // No clock of its own: the test's timeout is the bound, and before the fix the process never exited.
  expect(await a.stop('SIGTERM')).toBe(0);
  expect(a.logs.some((l) => l.msg === 'stopped')).toBe(true);
}, 60_000);
