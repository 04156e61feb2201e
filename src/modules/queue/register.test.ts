/**
 * One handler per job type: registering a type twice throws instead of silently replacing the
 * first handler (a second `derive` registration once replaced the first); and `registerJobs`
 * registers every job type the server knows, each once, from the deps alone (no HTTP app).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeps } from '../../compose';
import { loadConfig } from '../../config';
import type { Database } from '../../db/client';
import type { AppDeps } from '../../deps';
import { registerJobs } from '../../jobs';
import { createLogger } from '../../logger';
import { createQueue } from './runner';

test('a job type registered twice throws', () => {
  // Registration touches no database: a stand-in is enough.
  const queue = createQueue({ db: {} } as unknown as Database, createLogger('silent'), { concurrency: 0, leaseMs: 30_000, pollMs: 1000 });
  queue.register('test.once', async () => {});
  expect(() => queue.register('test.once', async () => {})).toThrow('job type "test.once" is already registered');
  expect(queue.types()).toEqual(['test.once']);
});

describe('registerJobs', () => {
  let dataDir: string;
  let deps: AppDeps;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pictor-jobs-'));
    deps = await buildDeps(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), createLogger('silent'), { pgliteDir: 'memory://' });
  }, 60_000);
  afterAll(async () => {
    await deps.shutdown();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('registers every job type once, without the HTTP app; a second call throws', () => {
    registerJobs(deps);
    expect([...deps.queue.types()].sort()).toEqual([
      'account_delete', 'account_delete_logs', 'account_export', 'blob_delete', 'derive', 'expire', 'prune', 'purge', 'video_render', 'webhook_deliver',
    ]);
    expect(() => registerJobs(deps)).toThrow('already registered');
  });
});
