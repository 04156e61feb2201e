/**
 * Postgres going away under a running server. A connection lost inside a transaction took the
 * whole process down (postgres.js wrote the ROLLBACK on a closed socket from a timer: an uncaught
 * TypeError); an unreachable database answered every request 500, logged as a bug with its SQL
 * and parameters. Now that request is a 503 `DATABASE_UNAVAILABLE` with `Retry-After`, the server
 * lives on, and it answers again once the database is back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import sharp from 'sharp';
import { freePort } from '../helpers/ports';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { proxiedDatabase, type TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/until';

const png = (seed: number) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: seed % 256, g: 40, b: 90 } } }).png().toBuffer();

describe('the database failing under a running server', () => {
  let db: TestDatabase;
  let srv: RunningServer;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDatabase();
    srv = await startServer({ env: { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' } });
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await sql?.end({ timeout: 1 });
    await db?.drop();
  });

  test('a connection lost inside a transaction fails that upload with a 503 (it killed the process); the server goes on and stores the next', async () => {
    const key = srv.bootstrap!.api_key;
    const upload = async (seed: number) => fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'image/png' }, body: new Uint8Array(await png(seed)) });
    const name = new URL(db.url).pathname.slice(1);
    // The account's row held: the upload's commit waits on it, inside its transaction.
    const holder = await sql.reserve();
    await holder`begin`;
    await holder`select id from users where email = ${srv.bootstrap!.email} for update`;
    const answer = upload(1);
    const waiting = await until('the upload to wait on the lock', async () => {
      const [row] = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${name} and wait_event_type = 'Lock'`;
      return row?.pid ?? null;
    });
    expect((await sql<{ done: boolean }[]>`select pg_terminate_backend(${waiting}) as done`)[0]!.done).toBe(true);
    const res = await answer;
    expect([res.status, res.headers.get('retry-after'), ((await res.json()) as { error: string }).error]).toEqual([503, '5', 'DATABASE_UNAVAILABLE']);
    await holder`rollback`;
    holder.release();
    // For the connection it lost (the server has no statement timeout here).
    const cause = await until('the 503\'s log line', async () => srv.logs.find((l) => l.code === 'DATABASE_UNAVAILABLE')?.cause ?? null);
    expect(['57P01', 'CONNECTION_CLOSED', 'ECONNRESET']).toContain(cause as string);

    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    expect((await upload(2)).status).toBe(201);
    expect(srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  }, 120_000);

  test('with DATABASE_STATEMENT_TIMEOUT_MS, a table held locked makes the list a 503 after it (it waited as long as the lock)', async () => {
    const auth = { 'x-api-key': srv.bootstrap!.api_key };
    const bounded = await startServer({ env: { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true', DATABASE_STATEMENT_TIMEOUT_MS: '2000' } });
    const holder = await sql.reserve();
    try {
      await holder`begin`;
      await holder`lock table files in access exclusive mode`;
      // The bound is the server's; this one only keeps a hang from holding the suite.
      const res = await fetch(`${bounded.url}/api/files`, { headers: auth, signal: AbortSignal.timeout(60_000) });
      const body = (await res.json()) as { error: string; message: string };
      expect([res.status, body.error]).toEqual([503, 'DATABASE_UNAVAILABLE']);
      expect(body.message).toContain('DATABASE_STATEMENT_TIMEOUT_MS');
      await until('its log line', async () => (bounded.logs.some((l) => l.code === 'DATABASE_UNAVAILABLE' && l.cause === '57014') ? true : null));
      await holder`rollback`;
      expect((await fetch(`${bounded.url}/api/files`, { headers: auth })).status).toBe(200);
    } finally {
      holder.release();
      await bounded.close();
    }
  }, 120_000);

  test('a tus request that fails for a reason nobody foresaw is a 500 that still carries Tus-Resumable (the global mapper\'s had none)', async () => {
    // Not an outage: a statement the database refuses (its table gone), as a bug would be.
    await sql`alter table tus_uploads rename to tus_uploads_away`;
    try {
      const res = await fetch(`${srv.url}/api/uploads/tus`, { method: 'POST', headers: { 'x-api-key': srv.bootstrap!.api_key, 'tus-resumable': '1.0.0', 'upload-length': '10' } });
      expect([res.status, res.headers.get('tus-resumable'), ((await res.json()) as { error: string }).error]).toEqual([500, '1.0.0', 'INTERNAL_ERROR']);
      // Logged as a bug, with the statement's start and never its parameters (Drizzle's message carries them).
      const line = await until('the unhandled error\'s log line', async () => srv.logs.find((l) => l.level === 'error' && l.msg === 'unhandled error') ?? null);
      const err = line.err as { type: string; query: string; message: string };
      expect([err.type, err.query.includes('"tus_uploads"'), err.message]).toEqual(['DrizzleQueryError', true, 'relation "tus_uploads" does not exist']);
      expect(JSON.stringify(line)).not.toMatch(/params/);
      expect(JSON.stringify(line)).not.toContain(srv.bootstrap!.email);
    } finally {
      await sql`alter table tus_uploads_away rename to tus_uploads`;
    }
  }, 60_000);
});

/** A server on a fresh database reached through a proxy the test can cut. */
async function behindProxy(env: Record<string, string>): Promise<{ db: TestDatabase; proxy: TcpProxy; srv: RunningServer }> {
  const { db, proxy, url } = await proxiedDatabase();
  const srv = await startServer({ env: { DATABASE_URL: url, DISABLE_RATE_LIMIT: 'true', ...env } });
  return { db, proxy, srv };
}

describe('the database unreachable', () => {
  let db: TestDatabase;
  let srv: RunningServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    ({ db, proxy, srv } = await behindProxy({ CACHE_MEMORY_BYTES: '0' }));
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await proxy?.close();
    await db?.drop();
  });

  test('the API answers 503 DATABASE_UNAVAILABLE with Retry-After (tus with Tus-Resumable), logged without SQL; back, it answers again', async () => {
    const auth = { 'x-api-key': srv.bootstrap!.api_key };
    expect((await fetch(`${srv.url}/api/files`, { headers: auth })).status).toBe(200);
    proxy.cut();
    const answers = [
      await fetch(`${srv.url}/api/files?limit=3`, { headers: auth }),
      await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(await png(3)) }),
      await fetch(`${srv.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: srv.bootstrap!.email, password: srv.bootstrap!.initial_password }) }),
      await fetch(`${srv.url}/api/uploads/tus`, { method: 'POST', headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': '10' } }),
    ];
    const got = await Promise.all(answers.map(async (r) => [r.status, r.headers.get('retry-after'), ((await r.json()) as { error: string }).error]));
    expect(got).toEqual(Array(4).fill([503, '5', 'DATABASE_UNAVAILABLE']));
    expect(answers[3]!.headers.get('tus-resumable')).toBe('1.0.0');
    // Each logged at warn with the database's word for it, none as a bug.
    await until('the outage\'s log lines', async () => (srv.logs.filter((l) => l.code === 'DATABASE_UNAVAILABLE' && typeof l.cause === 'string').length >= 4 ? true : null));
    expect(srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    // Readiness says what is wrong and what to check (it said "no answer within 1500 ms").
    const ready = await fetch(`${srv.url}/health/ready`);
    const database = ((await ready.json()) as { checks: { database: { status: string; error?: string } } }).checks.database;
    expect([ready.status, database.status]).toEqual([503, 'down']);
    expect(database.error).toMatch(/^Database at 127\.0\.0\.1:\d+\/pictor_t_\w+ cannot be reached \(.+\): check that it runs and that DATABASE_URL points at it$/);

    proxy.restore();
    await until('the API to answer again', async () => ((await fetch(`${srv.url}/api/files`, { headers: auth })).status === 200 ? true : null));
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(await png(4)) });
    expect(up.status).toBe(201);
  }, 180_000);

  test('an upload whose COMMIT landed but whose answer was lost keeps its bytes (they were deleted: a listed file that 404ed)', async () => {
    const auth = { 'x-api-key': srv.bootstrap!.api_key };
    const bytes = await png(5);
    // Connections the last test's outage cut fail once each when next used: every pooled one is
    // used at once until all answer, so this upload's 503 can only be the lost COMMIT.
    await until('every pooled connection to answer', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${srv.url}/api/files?limit=1`, { headers: auth })));
      return answers.every((r) => r.status === 200) ? true : null;
    });
    // Postgres's CommandComplete "COMMIT", on the connection that inserted the file's row.
    proxy.loseReply(Buffer.from('insert into "files"'), Buffer.concat([Buffer.from([0x43, 0, 0, 0, 11]), Buffer.from('COMMIT\0', 'latin1')]));
    const res = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(bytes) });
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    // The row is there (the commit landed) ...
    const listed = await until('the list to answer', async () => {
      const r = await fetch(`${srv.url}/api/files?limit=1`, { headers: auth });
      return r.status === 200 ? ((await r.json()) as { results: { id: string; sha256: string }[] }).results : null;
    });
    expect(listed[0]!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // ... and so are its bytes.
    const original = await fetch(`${srv.url}/api/files/${listed[0]!.id}/original`, { headers: auth });
    expect(original.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await original.arrayBuffer()), bytes)).toBe(0);
  }, 120_000);
});

describe('the database paused (it answers nothing, the connections stay open)', () => {
  let db: TestDatabase;
  let srv: RunningServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    ({ db, proxy, srv } = await behindProxy({ DATABASE_STATEMENT_TIMEOUT_MS: '1000' }));
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await proxy?.close();
    await db?.drop();
  });

  test('with DATABASE_STATEMENT_TIMEOUT_MS, requests answer 503 a few seconds past it (they waited as long as the pause); resumed, it answers again', async () => {
    const auth = { 'x-api-key': srv.bootstrap!.api_key };
    // Several connections open and idle, so the requests below go out on connections the pause
    // holds (a new one would meet connect_timeout first, a different 503).
    expect((await Promise.all(Array.from({ length: 6 }, () => fetch(`${srv.url}/api/files`, { headers: auth })))).map((r) => r.status)).toEqual(Array(6).fill(200));
    proxy.freeze();
    try {
      // The bound is the server's (1 s + its margin); the signal only keeps a hang from holding the suite.
      const signal = AbortSignal.timeout(60_000);
      const answers = await Promise.all([
        fetch(`${srv.url}/api/files?limit=3`, { headers: auth, signal }),
        fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(await png(6)), signal }),
      ]);
      const got = await Promise.all(answers.map(async (r) => [r.status, r.headers.get('retry-after'), ((await r.json()) as { error: string; message: string })]));
      expect(got.map(([status, retry, body]) => [status, retry, (body as { error: string }).error])).toEqual(Array(2).fill([503, '5', 'DATABASE_UNAVAILABLE']));
      expect((got[0]![2] as { message: string }).message).toMatch(/DATABASE_STATEMENT_TIMEOUT_MS|cannot be reached/);
      await until('the log line naming the silence', async () => (srv.logs.some((l) => l.code === 'DATABASE_UNAVAILABLE' && l.cause === 'ANSWER_TIMEOUT') ? true : null));
      expect(srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    } finally {
      proxy.thaw();
    }
    await until('the API to answer again', async () => ((await fetch(`${srv.url}/api/files`, { headers: auth })).status === 200 ? true : null));
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(await png(7)) });
    expect(up.status).toBe(201);
    // The paused upload's COMMIT may have landed on resume: if its row is listed, its bytes are there.
    const listed = ((await (await fetch(`${srv.url}/api/files`, { headers: auth })).json()) as { results: { id: string }[] }).results;
    const originals = await Promise.all(listed.map(async (f) => (await fetch(`${srv.url}/api/files/${f.id}/original`, { headers: auth })).status));
    expect(originals).toEqual(listed.map(() => 200));
  }, 180_000);
});

describe('WORKERS=2 with the database away', () => {
  let db: TestDatabase;
  let srv: RunningServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    // One port both workers share (PORT=0 would give each its own).
    ({ db, proxy, srv } = await behindProxy({ WORKERS: '2', PORT: String(await freePort()) }));
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await proxy?.close();
    await db?.drop();
  });

  test('a worker that dies meanwhile is started again once it is back (the primary stopped the whole service for good)', async () => {
    const listening = () => srv.logs.filter((l) => l.msg === 'listening');
    await until('both workers to listen', async () => (listening().length >= 2 ? true : null));
    // Printed by whichever worker made the admin, maybe after the other listened (startServer's return).
    const key = await until('the bootstrap key', async () => (srv.logs.find((l) => l.bootstrap)?.bootstrap as { api_key: string } | undefined)?.api_key ?? null);
    proxy.cut();
    process.kill(listening()[0]!.pid as number, 'SIGKILL');
    const alive = () => {
      if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) throw new Error(`the primary exited (${srv.proc.exitCode ?? srv.proc.signalCode})`);
    };
    // Its start waits DATABASE_WAIT_MS (10 s) for the database, then fails: tried again, not the end.
    await until('a failed start to be retried', async () => (alive(), srv.logs.some((l) => l.msg?.startsWith('worker could not start again')) ? true : null));
    proxy.restore();
    await until('the worker to listen again', async () => (alive(), listening().length >= 3 ? true : null));
    expect((await fetch(`${srv.url}/api/files`, { headers: { 'x-api-key': key } })).status).toBe(200);
  }, 180_000);
});
