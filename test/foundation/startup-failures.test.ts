/**
 * Start-up failures over real processes (#26.12), on Bun and Deno: a taken port, a database
 * or Redis that does not answer, a `DATA_DIR` that cannot be written, a missing S3 bucket. Each must
 * exit non-zero with one JSON log line at fatal level naming the cause and the variable to
 * set: no stack trace, no raw text, and no bootstrap credentials (the server never listened).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configSchema } from '../../src/config';
import { startMinio, type Minio } from '../helpers/minio';
import { createTestDatabase } from '../helpers/services';
import { startServer } from '../helpers/server';

const ROOT = resolve(import.meta.dir, '../..');
type Runtime = 'bun' | 'deno';

interface Outcome {
  /** Exit code, or 'listening' when the server started instead of failing. */
  code: number | null | 'listening';
  lines: string[];
}

/** Process groups still running (a server that did not exit, with any workers it spawned): killed after the tests. */
const running = new Set<number>();
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};

/**
 * Runs the server until it exits (or, wrongly, listens: then it is killed and that is the
 * outcome). No time limit of its own: the test's timeout is the bound.
 */
async function runUntilExit(runtime: Runtime, env: Record<string, string>): Promise<Outcome> {
  const [cmd, args] = runtime === 'bun'
    ? [process.execPath, ['src/main.ts']]
    : [join(ROOT, 'node_modules/.bin/deno'), ['run', '--allow-all', 'src/main.deno.ts']];
  // As test/helpers/server.ts: no Pictor setting leaks in from the shell.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in configSchema)));
  const proc = spawn(cmd, args as string[], {
    cwd: ROOT,
    env: { ...inherited, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so WORKERS children go with it
  });
  const pid = proc.pid as number;
  running.add(pid);
  let text = '';
  return new Promise<Outcome>((done) => {
    let listening = false;
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (!listening && /"msg":"listening"/.test(text)) {
        listening = true;
        killGroup(pid);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('close', (code) => {
      running.delete(pid);
      killGroup(pid); // any worker left behind
      done({ code: listening ? 'listening' : code, lines: text.split('\n').filter((l) => l.trim()) });
    });
  });
}

/** The one clear line: exit non-zero, all output JSON, one fatal line naming the variable and cause, no stack, no credentials. */
function expectOneClearLine(outcome: Outcome, variable: string, cause: RegExp) {
  const shown = outcome.lines.join('\n');
  expect(outcome.code, shown).not.toBe('listening');
  expect(outcome.code, shown).not.toBe(0);
  expect(outcome.code, shown).not.toBeNull();
  const parsed = outcome.lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return { raw: l };
    }
  });
  expect(parsed.filter((l) => 'raw' in l), 'raw (non-JSON) output').toEqual([]);
  const failures = parsed.filter((l) => l.level === 'fatal' || l.level === 'error');
  expect(failures.length, shown).toBe(1);
  const [line] = failures as [{ level: string; msg: string; variable?: string }];
  expect(line.variable).toBe(variable);
  expect(line.msg).toContain(variable);
  expect(line.msg).toMatch(cause);
  expect(shown).not.toMatch(/\n\s+at |"stack"/); // no stack trace, raw or inside JSON
  expect(shown).not.toMatch(/bootstrap|initial_password|api_key|pk_[A-Za-z0-9]/);
}

let minio: Minio;
let scratch: string;
beforeAll(async () => {
  minio = await startMinio();
  scratch = await mkdtemp(join(tmpdir(), 'pictor-startfail-'));
});
afterAll(async () => {
  for (const pid of running) killGroup(pid);
  await minio?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true }); // unset when MinIO did not start
});

/** A listener this test owns, holding a port. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

for (const runtime of ['bun', 'deno'] as const) {
  describe(`${runtime}: start-up failures`, () => {
    test('port in use: one line naming PORT, no credentials; the next start creates and prints the admin', async () => {
      const { port, server } = await holdPort();
      const dataDir = await mkdtemp(join(scratch, 'port-'));
      try {
        expectOneClearLine(await runUntilExit(runtime, { PORT: String(port), DATA_DIR: dataDir }), 'PORT', /already in use/);
      } finally {
        server.close();
      }
      // No admin was left behind with a password nobody saw: the next start on the same data bootstraps.
      const next = await startServer({ runtime, dataDir, timeoutMs: 60_000 });
      try {
        expect(next.bootstrap?.api_key).toMatch(/^pk_/);
      } finally {
        await next.close();
      }
    }, 120_000);

    test('database unreachable: gives up with one line naming DATABASE_URL', async () => {
      const dataDir = await mkdtemp(join(scratch, 'db-'));
      const outcome = await runUntilExit(runtime, { DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/pictor' });
      expectOneClearLine(outcome, 'DATABASE_URL', /unreachable.*ECONNREFUSED/);
    }, 60_000);

    test('Redis unreachable, or a database index it refuses: one line naming REDIS_URL (it started without Redis, and SIGTERM then hung)', async () => {
      const down = await runUntilExit(runtime, { DATA_DIR: await mkdtemp(join(scratch, 'redis-')), REDIS_URL: 'redis://127.0.0.1:1' });
      expectOneClearLine(down, 'REDIS_URL', /did not answer.*ECONNREFUSED/);
      const index = await runUntilExit(runtime, { DATA_DIR: await mkdtemp(join(scratch, 'redis-db-')), REDIS_URL: 'redis://127.0.0.1:6379/99' });
      expectOneClearLine(index, 'REDIS_URL', /DB index is out of range/);
    }, 60_000);

    test('PRESETS not valid JSON, or a file that is not there: one line naming PRESETS (it was a fatal with a stack), and nothing made in DATA_DIR', async () => {
      for (const [presets, said] of [['{bad json', /PRESETS is not valid JSON/], [join(scratch, 'no-such-presets.json'), /PRESETS is neither JSON nor a file.*ENOENT/]] as const) {
        const dataDir = await mkdtemp(join(scratch, 'presets-'));
        expectOneClearLine(await runUntilExit(runtime, { DATA_DIR: dataDir, PRESETS: presets }), 'PRESETS', said);
        // It was found after the embedded database and secrets.json were created.
        expect(await readdir(dataDir)).toEqual([]);
      }
    }, 60_000);

    test('HOST that is no address, MAX_DIMENSION below a built-in preset: one line naming each (a stack trace; PRESETS, which was not set)', async () => {
      expectOneClearLine(await runUntilExit(runtime, { DATA_DIR: await mkdtemp(join(scratch, 'host-')), HOST: 'not-a-host' }), 'HOST', /set HOST/);
      expectOneClearLine(await runUntilExit(runtime, { DATA_DIR: await mkdtemp(join(scratch, 'dim-')), MAX_DIMENSION: '1200' }), 'MAX_DIMENSION', /built-in preset large .*MAX_DIMENSION=1200/);
    }, 60_000);

    test('DATA_DIR not writable (under a regular file): one line naming DATA_DIR', async () => {
      // Tests run as root, which mode bits do not stop: a path through a file cannot be created by anyone.
      const file = join(scratch, `${runtime}-a-file`);
      await writeFile(file, 'not a directory');
      const outcome = await runUntilExit(runtime, { DATA_DIR: join(file, 'data') });
      expectOneClearLine(outcome, 'DATA_DIR', /not a writable directory/);
    }, 60_000);

    test('CACHE_DIR not writable: one line naming CACHE_DIR (it started ready, the disk cache off, a stack per render)', async () => {
      const file = join(await mkdtemp(join(scratch, 'cachedir-')), 'plain-file');
      await writeFile(file, 'x');
      const outcome = await runUntilExit(runtime, { DATA_DIR: await mkdtemp(join(scratch, 'cachedir-data-')), CACHE_DIR: join(file, 'cache') });
      expectOneClearLine(outcome, 'CACHE_DIR', /not a writable directory/);
    }, 60_000);

    test('S3 bucket missing: one line naming S3_BUCKET', async () => {
      const dataDir = await mkdtemp(join(scratch, 's3-'));
      const outcome = await runUntilExit(runtime, { DATA_DIR: dataDir, ...minio.env(`missing-${runtime}-${Date.now().toString(36)}`) });
      expectOneClearLine(outcome, 'S3_BUCKET', /does not exist/);
    }, 60_000);
  });
}

test('WORKERS=2, port in use: reported once, no credentials, and the processes exit instead of restarting', async () => {
  const { port, server } = await holdPort();
  const dataDir = await mkdtemp(join(scratch, 'workers-'));
  const db = await createTestDatabase(); // WORKERS > 1 needs Postgres
  try {
    const outcome = await runUntilExit('bun', { PORT: String(port), DATA_DIR: dataDir, WORKERS: '2', DATABASE_URL: db.url });
    expectOneClearLine(outcome, 'PORT', /already in use/);
  } finally {
    server.close();
    await db.drop();
  }
}, 60_000);

