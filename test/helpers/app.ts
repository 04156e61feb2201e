/**
 * In-process app for route tests: `createApp(deps)` and the job handlers (`registerJobs`), as
 * the server has them, with PGlite in memory (or a fresh Postgres database); requests through
 * the server's own handler (`createHandler`: fast path, then the router), no socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, createHandler } from '../../src/app';
import { loadConfig } from '../../src/config';
import { buildDeps } from '../../src/compose';
import { registerJobs } from '../../src/jobs';
import type { AppDeps, Clock } from '../../src/deps';
import { createLogger } from '../../src/logger';
import { createTestDatabase, TEST_REDIS_URL, type DbBackend } from './services';

export interface TestAppOptions {
  db?: DbBackend;
  /** Use the machine's Redis (REDIS_URL) instead of the in-process fallbacks. */
  redis?: boolean;
  env?: Record<string, string>;
  clock?: Clock;
  /** Collects every log line (parsed JSON) here instead of printing; sets LOG_LEVEL=debug unless env says otherwise. */
  logLines?: Record<string, unknown>[];
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  dataDir: string;
  /** `fetch`-like helper against the in-process app; paths are relative to `http://test.local`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function makeTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-test-'));
  const pg = opts.db === 'postgres' ? await createTestDatabase() : null;
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: opts.logLines ? 'debug' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    PUBLIC_URL: 'http://test.local',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...(opts.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
    ...opts.env,
  });
  const lines = opts.logLines;
  const log = lines
    ? createLogger(config.logLevel, {}, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
    : createLogger(config.logLevel);
  const deps = await buildDeps(config, log, { pgliteDir: pg ? undefined : 'memory://', clock: opts.clock });
  registerJobs(deps);
  const app = createApp(deps);
  const handler = createHandler(deps, app);
  return {
    app,
    deps,
    dataDir,
    request: async (path, init) => handler(new Request(new URL(path, 'http://test.local'), init)),
    close: async () => {
      await deps.shutdown();
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON request init with the right content type. */
export const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
