/**
 * Variant servers for tuning: rate limiting off, WORKERS=2 (vs nginx with 2 workers), the disk
 * tier alone, TRANSFORM_CONCURRENCY=1, S3 on MinIO, and PGlite for the API list. Each starts its
 * own Pictor, measures, and stops it, so the numbers differ from the main run by one setting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startMinio } from '../../test/helpers/minio';
import { unavailable, writeJson, type Ctx } from './context';
import { runQueueBench, runRequestLogsVariant } from './extras';
import { startS3Hop } from './baselines';
import { runHitVariant, runList, runNginx } from './hot';
import { startPictor, type Pictor } from './pictor';
import { makeBigFile, seedPglite } from './seed';
import { runBigUpload, runCold, runS3HopBaseline, runS3PlainBaseline } from './work';

/** Env of the main configuration: local Postgres + Redis, fs storage in the shared data dir. */
export function mainEnv(ctx: Ctx): Record<string, string> {
  return { DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, DATA_DIR: ctx.dataDir, WORKERS: '1' };
}

/** Starts a variant server, runs `fn`, always stops it; a failed start marks `keys` unavailable. */
async function withServer(ctx: Ctx, env: Record<string, string>, keys: string[], fn: (p: Pictor) => Promise<void>): Promise<void> {
  const p = await startPictor(env).catch((err: Error) => err);
  if (p instanceof Error) {
    for (const k of keys) unavailable(ctx, k, 'variant', k, `server did not start: ${p.message}`);
    return;
  }
  try {
    await fn(p);
  } finally {
    await p.stop();
  }
}

/** Every tuning variant in turn, each on its own server start. */
export async function runVariants(ctx: Ctx, bigFile: string | null, log: (m: string) => void): Promise<void> {
  const base = mainEnv(ctx);
  log('variant: DISABLE_RATE_LIMIT=true');
  await withServer(ctx, { ...base, DISABLE_RATE_LIMIT: 'true' }, ['hits_memory_limiter_off'], (p) =>
    runHitVariant(ctx, p, 'hits_memory_limiter_off', 'variant', 'memory hits, rate limiting off', 'HIT-MEMORY', { DISABLE_RATE_LIMIT: 'true' }));

  // REDIS_URL unset: the in-process sliding window, for the CPU per hit with that limiter.
  log('variant: in-process limiter (REDIS_URL unset)');
  const { REDIS_URL: _redis, ...local } = base;
  await withServer(ctx, local, ['hits_memory_local_limiter'], (p) =>
    runHitVariant(ctx, p, 'hits_memory_local_limiter', 'variant', 'memory hits, in-process limiter', 'HIT-MEMORY', { REDIS_URL: '(unset: in-process limiter)' }));

  log('variant: WORKERS=2');
  await withServer(ctx, { ...base, WORKERS: '2' }, ['hits_memory_workers2'], (p) =>
    runHitVariant(ctx, p, 'hits_memory_workers2', 'variant', 'memory hits, WORKERS=2', 'HIT-MEMORY', { WORKERS: '2' }));
  if (ctx.hitPaths.length) await runNginx(ctx, join(ctx.work, 'static'), 2, 'nginx_workers2', (b) => writeJson(ctx, 'hits', ctx.hitPaths.map((x) => b + x)));

  // Limiter off here too, so the comparison with hits_memory_limiter_off isolates the cache tier.
  log('variant: CACHE_MEMORY_BYTES=0 (disk tier only), rate limiting off');
  const disk = { CACHE_MEMORY_BYTES: '0', DISABLE_RATE_LIMIT: 'true' };
  await withServer(ctx, { ...base, ...disk }, ['hits_disk'], (p) =>
    runHitVariant(ctx, p, 'hits_disk', 'scenario', 'disk-cache hits on /t (memory tier 0, limiter off)', 'HIT-DISK', disk));

  // Default = cores; 1 (fewer renders, more libvips threads each) always; 2× cores in full runs.
  const tcs = ctx.s.quick ? [1] : [1, 2 * availableParallelism()];
  for (const [i, tc] of tcs.entries()) {
    log(`variant: TRANSFORM_CONCURRENCY=${tc}`);
    const key = `cold_transforms_tc${tc}`;
    await withServer(ctx, { ...base, TRANSFORM_CONCURRENCY: String(tc) }, [key], (p) => runCold(ctx, p, key, 2 + i, false, { TRANSFORM_CONCURRENCY: String(tc) }));
  }

  log('variant: STORAGE_DRIVER=s3 (MinIO)');
  const s3File = ctx.s.s3UploadBytes === ctx.s.bigUploadBytes ? bigFile : await makeBigFile(ctx.work, ctx.s.s3UploadBytes).catch(() => null);
  if (!s3File) unavailable(ctx, 'upload_big_s3', 'variant', 'S3 upload', 'the upload file could not be made');
  else {
    const minio = await startMinio().catch((err: Error) => err);
    if (minio instanceof Error) unavailable(ctx, 'upload_big_s3', 'variant', 'S3 upload', minio.message);
    else {
      const dir = await mkdtemp(join(ctx.work, 's3-data-'));
      try {
        const env = { ...base, DATA_DIR: dir, ...minio.env(await minio.createBucket()) };
        // Each baseline before and after Pictor's upload (a fresh server's first), averaged:
        // MinIO's disk state changes over the five, and neither side should get only the warm one.
        const plain = { endpoint: minio.endpoint, bucket: await minio.createBucket(), accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
        const hop = await startS3Hop({ ...plain, bucket: await minio.createBucket() }).catch((err: Error) => err);
        try {
          await runS3PlainBaseline(ctx, 'upload_s3_plain', s3File, plain);
          if (hop instanceof Error) unavailable(ctx, 'upload_s3_hop', 'baseline', 'S3 pass-through server', hop.message);
          else await runS3HopBaseline(ctx, 'upload_s3_hop', s3File, hop);
          await withServer(ctx, env, ['upload_big_s3'], (p) => runBigUpload(ctx, p, 'upload_big_s3', s3File, { STORAGE_DRIVER: 's3' }));
          if (!(hop instanceof Error)) await runS3HopBaseline(ctx, 'upload_s3_hop_after', s3File, hop);
          await runS3PlainBaseline(ctx, 'upload_s3_plain_after', s3File, plain);
        } finally {
          if (!(hop instanceof Error)) await hop.stop();
        }
        averageRuns(ctx, 'upload_s3_plain', 'upload_s3_plain_after');
        averageRuns(ctx, 'upload_s3_hop', 'upload_s3_hop_after');
      } finally {
        await minio.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  log('variant: PGlite (embedded database) for the API list');
  await runPgliteList(ctx);

  log('variant: REQUEST_LOGS=false');
  await runRequestLogsVariant(ctx, base);

  log('extra: job queue (queue.ts)');
  await runQueueBench(ctx);
}

/** Seeds an embedded database with an account and 100 000 rows, then measures the list on it. */
async function runPgliteList(ctx: Ctx): Promise<void> {
  const dir = await mkdtemp(join(ctx.work, 'pglite-'));
  const env = { REDIS_URL: ctx.redisUrl, DATA_DIR: dir, WORKERS: '1' };
  try {
    const seeded = await seedPglite(join(dir, 'pg'), 100_000);
    await withServer(ctx, env, ['list_pglite'], (p) => runList(ctx, p, 'list_pglite', seeded.apiKey, { DATABASE_URL: '(unset: PGlite)' }));
  } catch (err) {
    unavailable(ctx, 'list_pglite', 'variant', 'list on PGlite', (err as Error).message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Folds the second run of an S3 baseline (`second`) into the first: mean throughput, larger RSS growth. */
function averageRuns(ctx: Ctx, first: string, second: string): void {
  const a = ctx.entries[first];
  const b = ctx.entries[second];
  delete ctx.entries[second];
  // One run failed: the other one alone is the baseline (rather than none, or the failure).
  if (b?.available && b.extra && !(a?.available && a.extra)) {
    ctx.entries[first] = { ...b, extra: { ...b.extra, rounds_mb_per_s: `${Number(b.extra.mb_per_s)} (the run before Pictor's failed)` } };
    return;
  }
  if (!a?.available || !b?.available || !a.extra || !b.extra) return;
  const rate = (x: typeof a) => Number(x.extra?.mb_per_s);
  const growth = (x: typeof a) => Number(x.extra?.rss_growth_mib ?? x.server?.rss_growth_mib ?? 0);
  a.extra = { ...a.extra, mb_per_s: Math.round(((rate(a) + rate(b)) / 2) * 10) / 10, rounds_mb_per_s: `${rate(a)}, ${rate(b)}`, rss_growth_mib: Math.max(growth(a), growth(b)) };
}
