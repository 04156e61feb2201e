/**
 * The fuzz run shared by the test (test/foundation/fuzz.e2e.test.ts) and the longer bench
 * (bench/fuzz.ts): a real server on a fresh Postgres database, every operation of its
 * /openapi.json, request plans from fast-check for a bounded time and number of runs, each
 * answer checked (check.ts), then the leftover check: every stored object belongs to a row,
 * every row has its object and came from an acknowledged upload, no temp file remains.
 */
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import postgres from 'postgres';
import sharp from 'sharp';
import { cookiesOf } from '../client';
import { startServer, type RunningServer } from '../server';
import { createTestDatabase } from '../services';
import { describe, learn, problemWith } from './check';
import { planArbitrary, type Plan } from './plans';
import { materialize, type World } from './request';
import { loadOperations, type Operation } from './spec';
import { sendRaw } from './wire';

export interface FuzzOptions {
  seconds: number;
  maxRuns: number;
  seed?: number;
  /** Keep going after a failure and report them all (bench); the test stops at the first. */
  collect?: boolean;
  env?: Record<string, string>;
  /** Per-request answer timeout. */
  timeoutMs?: number;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  operations: number;
  /** Operations that answered at least once (any status). */
  covered: number;
  byStatus: Record<string, number>;
  seconds: number;
  failures: { problem: string; request: string }[];
  leftovers: string[];
  /** Error and fatal log lines of the server (a crash shows here). */
  serverErrors: string[];
  /** fast-check's own report when the property failed (seed and path to replay). */
  counterexample?: string;
}

async function samples(): Promise<Record<string, Buffer>> {
  const img = sharp({ create: { width: 48, height: 32, channels: 3, background: '#3366cc' } });
  const png = await img.clone().png().toBuffer();
  const jpeg = await img.clone().jpeg().toBuffer();
  return {
    png, jpeg,
    gif: await img.clone().gif().toBuffer(),
    webp: await img.clone().webp().toBuffer(),
    truncated: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
    random: Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7919 + 13) % 256)),
    empty: Buffer.alloc(0),
    svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'),
    text: Buffer.from('hello'),
  };
}

async function login(srv: RunningServer): Promise<World['session']> {
  const res = await fetch(`${srv.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: srv.bootstrap!.email, password: srv.bootstrap!.initial_password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const cookies = cookiesOf(res.headers);
  const body = (await res.json()) as { session: { access_token: string } };
  return { cookie: cookies.header, csrf: cookies.map.pictor_csrf ?? '', jwt: body.session.access_token };
}

/** Objects on disk (fs driver) relative to DATA_DIR/files, and temp files apart. */
async function storedObjects(dataDir: string): Promise<{ objects: Set<string>; temp: string[] }> {
  const root = join(dataDir, 'files');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const objects = new Set<string>();
  const temp: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = relative(root, join(e.parentPath, e.name));
    if (rel.startsWith('.tmp')) temp.push(rel);
    else objects.add(rel);
  }
  return { objects, temp };
}

async function leftovers(srv: RunningServer, dbUrl: string, acked: Set<string>): Promise<string[]> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ id: string; storage_key: string; public_storage_key: string | null }[]>`select id, storage_key, public_storage_key from files`;
    const { objects, temp } = await storedObjects(srv.dataDir);
    // Account exports (POST /api/account/export) are objects of their own, owned by their row.
    const exports = await sql<{ storage_key: string }[]>`select storage_key from account_exports where storage_key is not null`;
    const keys = new Set([...rows.flatMap((r) => [r.storage_key, r.public_storage_key].filter((k): k is string => !!k)), ...exports.map((e) => e.storage_key)]);
    return [
      ...rows.filter((r) => !acked.has(r.id)).map((r) => `row ${r.id} from no acknowledged upload`),
      ...[...keys].filter((k) => !objects.has(k)).map((k) => `row's object ${k} missing`),
      ...[...objects].filter((o) => !keys.has(o)).map((o) => `object ${o} without a row`),
      ...temp.map((t) => `temp file ${t}`),
    ];
  } finally {
    await sql.end();
  }
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const db = await createTestDatabase();
  const srv = await startServer({
    checkResponses: false,
    env: {
      DATABASE_URL: db.url,
      DISABLE_RATE_LIMIT: 'true',
      // Cheap renders, so a slow shared machine answers within the budget: the fuzz looks for
      // wrong answers, not for how long a big render takes (bench/render.ts measures that).
      MAX_DIMENSION: '2048',
      MAX_OUTPUT_PIXELS: '1500000',
      TRANSFORM_TIMEOUT_MS: '60000',
      UPLOAD_IDLE_TIMEOUT: '5',
      ...opts.env,
    },
  });
  const started = Date.now();
  const failures: FuzzReport['failures'] = [];
  const byStatus: Record<string, number> = {};
  const answered = new Set<number>();
  const acked = new Set<string>();
  let requests = 0;
  try {
    const ops = await loadOperations(srv.url);
    const world: World = {
      port: srv.port,
      apiKey: srv.bootstrap!.api_key,
      session: await login(srv),
      pools: { file: [], user: [], job: [], apikey: [], token: [], signed: [], session: [] },
      samples: await samples(),
    };
    let stale = false;
    const op = (method: string, path: string) => {
      // A group's own route may be documented with or without its trailing slash.
      const found = ops.find((o) => o.method === method && o.path.replace(/(.)\/$/, '$1') === path);
      if (!found) throw new Error(`/openapi.json lists no ${method} ${path}`);
      return found;
    };
    // Seed the pools through the API itself, so the ids are real.
    const seedFile = async () => {
      for (const data of ['png', 'jpeg'] as const) {
        await send({ op: ops.indexOf(op('POST', '/api/files')), method: null, segments: [], tail: '', query: [], headers: [], auth: 'keyBearer', body: { kind: 'raw', data, type: `image/${data}` }, lengthSkew: 0 });
      }
    };
    const send = async (plan: Plan): Promise<void> => {
      if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) throw new Error('the server exited during the run (see serverErrors)');
      if (stale) {
        world.session = await login(srv);
        stale = false;
      }
      const req = materialize(world, ops, plan);
      // A request that promised more bytes than it sent waits for the server's idle timeout at most.
      const res = await sendRaw(srv.port, req, plan.lengthSkew > 0 ? 3000 : (opts.timeoutMs ?? 20_000));
      requests++;
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      if (res.status) answered.add(plan.op);
      const operation: Operation = ops[plan.op]!;
      learn(world, operation, req, res, acked);
      // A session revoked by the fuzz itself (logout, logout-all, a reused refresh token) is replaced.
      if ((plan.auth === 'cookie' || plan.auth === 'jwt') && res.status === 401) stale = true;
      if (operation.path.startsWith('/api/auth/') && res.headers['set-cookie']) stale = true;
      // The method actually sent decides which documented answers apply (a POST route hit with GET).
      const sent = ops.find((o) => o.path === operation.path && o.method === req.method);
      const problem = problemWith(sent ?? { ...operation, nonJsonStatuses: {} }, req, res);
      if (problem) {
        failures.push({ problem, request: describe(req) });
        if (!opts.collect) throw new Error(`${problem}\n  request: ${describe(req)}`);
      }
    };
    await seedFile();
    await send({ op: ops.indexOf(op('POST', '/api/uploads/presign')), method: null, segments: [], tail: '', query: [], headers: [], auth: 'keyBearer', body: { kind: 'json', value: {} }, lengthSkew: 0 });
    const deadline = started + opts.seconds * 1000;
    const seed = opts.seed ?? Date.now() ^ (Math.random() * 2 ** 31);
    let counterexample: string | undefined;
    // Each run sends 1–3 requests at once (concurrency finds what one-at-a-time cannot).
    const property = fc.asyncProperty(fc.array(planArbitrary(ops), { minLength: 1, maxLength: 3 }), async (plans) => {
      if (Date.now() > deadline) return;
      if (requests % 150 < plans.length) await seedFile(); // the fuzz deletes files too
      await Promise.all(plans.map(send));
    });
    const result = await fc.check(property, { seed, numRuns: opts.maxRuns, interruptAfterTimeLimit: opts.seconds * 1000 + 5000, endOnFailure: true });
    if (result.failed) counterexample = `${fc.defaultReportMessage(result) ?? ''}\n${result.errorInstance instanceof Error ? result.errorInstance.stack : String(result.errorInstance)}`;
    // In-flight deletes and purges settle before counting.
    let left: string[] = [];
    for (let i = 0; i < 20; i++) {
      left = await leftovers(srv, db.url, acked);
      if (!left.length) break;
      await Bun.sleep(500);
    }
    const exited = srv.proc.exitCode !== null || srv.proc.signalCode !== null;
    if (exited) failures.push({ problem: `server exited (${srv.proc.exitCode ?? srv.proc.signalCode})`, request: '' });
    // A crash may print a plain stack trace (no JSON level): its last lines are kept whole.
    const errors = [...srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal'), ...(exited ? srv.logs.slice(-15) : [])];
    return { seed, requests, operations: ops.length, covered: answered.size, byStatus, seconds: (Date.now() - started) / 1000, failures, leftovers: left, counterexample, serverErrors: errors.map((l) => JSON.stringify(l).slice(0, 600)) };
  } finally {
    await srv.close();
    await db.drop();
  }
}
