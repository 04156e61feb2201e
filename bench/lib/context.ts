/**
 * What every phase shares: run settings (quick or full), the work directory, seeded data, and
 * the entries being recorded. `record` runs one measurement with RSS/CPU sampling of the
 * process under test; any failure becomes "not available: <reason>" and the run goes on.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult } from './k6';
import { runK6 } from './k6';
import { sampleTree } from './procs';
import type { Entry } from './report';
import type { Account, CorpusImage } from './seed';

/** Sizes of one run: windows, connection counts, workload sizes. */
export interface Settings {
  quick: boolean;
  /** Measured window of each constant-load scenario. */
  duration: string;
  /** Warm-up window before it (JIT, connection pools, caches), not measured. */
  warmup: string;
  vusHits: number;
  vusApi: number;
  /** Concurrency of the list scenario (its p95 target is a latency figure, not a saturation one). */
  vusList: number;
  vusUpload: number;
  vusLogin: number;
  vusMixed: number;
  /** Offered rate of the mixed profile (open model), requests per second. */
  mixedRate: number;
  coldIterations: number;
  coldConcurrency: number;
  bigUploadBytes: number;
  /** The S3 variant's upload (quick: 256 MiB, to stay under 3 minutes; its RSS bound is what it checks). */
  s3UploadBytes: number;
  listPages: number;
}

/** `--quick` (under 3 minutes) or full settings; a few can be overridden by BENCH_* variables. */
export function settingsFor(quick: boolean): Settings {
  return {
    quick,
    duration: quick ? '3s' : '20s',
    warmup: quick ? '1s' : '3s',
    vusHits: 16,
    vusApi: 8,
    vusList: 4,
    vusUpload: 4,
    vusLogin: 2,
    vusMixed: 16,
    mixedRate: Number(process.env.BENCH_MIXED_RATE ?? 100),
    coldIterations: quick ? 20 : 120,
    coldConcurrency: 4,
    bigUploadBytes: Number(process.env.BENCH_BIG_UPLOAD_BYTES ?? 1024 ** 3),
    s3UploadBytes: Number(process.env.BENCH_S3_UPLOAD_BYTES ?? process.env.BENCH_BIG_UPLOAD_BYTES ?? (quick ? 256 * 1024 ** 2 : 1024 ** 3)),
    listPages: quick ? 10 : 40,
  };
}

/** State shared by the phases of one run. */
export interface Ctx {
  s: Settings;
  work: string;
  databaseUrl: string;
  redisUrl: string;
  corpus: CorpusImage[];
  upload200k: string;
  account?: Account;
  /** Corpus file ids on the main server's data directory. */
  ids: string[];
  /** Paths (no host) of the derivative URLs the hit scenarios use. */
  hitPaths: string[];
  /** Main data directory: fs storage and disk cache, shared by the Postgres variants. */
  dataDir: string;
  entries: Record<string, Entry>;
}

let fileN = 0;
/** Writes a JSON file into the work dir and returns its path (k6 reads URL lists from files). */
export async function writeJson(ctx: Ctx, name: string, value: unknown): Promise<string> {
  const path = join(ctx.work, `${name}-${fileN++}.json`);
  await writeFile(path, JSON.stringify(value));
  return path;
}

/** Marks a measurement as not available, with the reason. */
export function unavailable(ctx: Ctx, key: string, kind: Entry['kind'], title: string, reason: string): void {
  ctx.entries[key] = { title, kind, available: false, reason };
  console.log(`  ${key}: not available — ${reason.split('\n')[0]}`);
}

/** Runs `fn` while sampling `pid`'s tree; records the entry or its failure. */
export async function record(
  ctx: Ctx,
  key: string,
  kind: Entry['kind'],
  title: string,
  pid: number | null,
  fn: () => Promise<{ load?: LoadResult; extra?: Entry['extra']; server?: Entry['server'] }>,
  config?: Record<string, string>,
): Promise<Entry | null> {
  const sampler = pid ? sampleTree(pid, 50) : null;
  try {
    const r = await fn();
    const sampled = sampler?.stop();
    if (r.load) delete r.load.stdout;
    const entry: Entry = { title, kind, available: true, ...r, server: r.server ?? sampled, config };
    ctx.entries[key] = entry;
    const l = entry.load;
    const shown = l ? `${l.rps} req/s p50 ${l.p50_ms} p95 ${l.p95_ms} p99 ${l.p99_ms} ms, unexpected ${l.unexpected}, 429/503 ${l.rejected}, dropped ${l.dropped}${l.thresholds_ok ? '' : ` THRESHOLDS CROSSED: ${l.crossed.join('; ')}`}` : JSON.stringify(entry.extra);
    console.log(`  ${key}: ${shown}`);
    return entry;
  } catch (err) {
    sampler?.stop();
    unavailable(ctx, key, kind, title, (err as Error).message);
    return null;
  }
}

/** Fetches once and explains why the scenario cannot run when the answer is not `expect`. */
export async function probe(url: string, init: RequestInit = {}, expect: number[] = [200]): Promise<{ ok: true; res: Response; body: Uint8Array } | { ok: false; reason: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(60_000), ...init });
    const body = new Uint8Array(await res.arrayBuffer());
    if (expect.includes(res.status)) return { ok: true, res, body };
    return { ok: false, reason: `${init.method ?? 'GET'} ${new URL(url).pathname} → ${res.status} ${new TextDecoder().decode(body.slice(0, 160))}` };
  } catch (err) {
    return { ok: false, reason: `${url}: ${(err as Error).message}` };
  }
}

/**
 * A k6 run preceded by an unmeasured warm-up of the same script. Figures compared as ratios
 * (`compared`) are always warmed; in quick mode the absolute-only ones skip it to save time.
 */
export async function warmAndRun(ctx: Ctx, script: string, env: Record<string, string | number | undefined>, compared = false): Promise<LoadResult> {
  if (!env.ITERATIONS && (compared || !ctx.s.quick)) await runK6(script, { ...env, DURATION: ctx.s.warmup, P95_MS: undefined, P99_MS: undefined });
  return runK6(script, { DURATION: ctx.s.duration, ...env });
}
