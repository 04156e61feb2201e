import type { AppDeps, Probe } from '../../deps';

export type CheckStatus = 'ok' | 'degraded' | 'down' | 'disabled';

export interface CheckResult {
  status: CheckStatus;
  latency_ms: number;
  error?: string;
  free_bytes?: number;
  total_bytes?: number;
}

export interface Readiness {
  status: 'ok' | 'degraded' | 'down';
  checks: { database: CheckResult; redis: CheckResult; storage: CheckResult };
}

/** A probe slower than this counts as down: readiness must answer fast for load balancers. */
const PROBE_TIMEOUT_MS = 1500;

async function runProbe(probe: Probe | null): Promise<CheckResult> {
  if (!probe) return { status: 'disabled', latency_ms: 0 };
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', latency_ms: round(performance.now() - started) };
  } catch (err) {
    return { status: 'down', latency_ms: round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * A usable local disk running out of space is `degraded` (issue #17.12): uploads will soon
 * fail with 507, though reads still work. The free space is `statfs` of the storage root.
 */
async function withFreeSpace(deps: AppDeps, check: CheckResult): Promise<CheckResult> {
  if (check.status !== 'ok') return check;
  let space: { free: number; total: number } | null;
  try {
    space = await deps.storage.space();
  } catch (err) {
    return { ...check, status: 'degraded', error: `free space unknown: ${(err as Error).message}` };
  }
  if (!space) return check;
  const min = deps.config.minFreeDisk;
  const floor = 'bytes' in min ? min.bytes : (space.total * min.percent) / 100;
  const out = { ...check, free_bytes: space.free, total_bytes: space.total };
  return space.free < floor ? { ...out, status: 'degraded', error: `${space.free} bytes free, below MIN_FREE_DISK` } : out;
}

/**
 * Database and storage are essential (down → 503). Redis is not: without it limits and
 * invalidation fall back to this process, so its loss only degrades the instance.
 */
export async function checkReadiness(deps: AppDeps): Promise<Readiness> {
  const [database, redis, storage] = await Promise.all([
    runProbe(deps.probes.database),
    runProbe(deps.probes.redis),
    runProbe(deps.probes.storage).then((check) => withFreeSpace(deps, check)),
  ]);
  // A limiter deciding in process while Redis is configured (fallback) also degrades the instance.
  const limiterDegraded = deps.limiter.isDegraded();
  const status = database.status === 'down' || storage.status === 'down' ? 'down'
    : redis.status === 'down' || limiterDegraded || storage.status === 'degraded' ? 'degraded' : 'ok';
  return { status, checks: { database, redis, storage } };
}
