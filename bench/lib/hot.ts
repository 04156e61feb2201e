/**
 * Read-path scenarios: derivative cache hits (memory, disk) against nginx and a raw
 * `Bun.serve` serving the same bytes, originals with and without `Range`, and the API list.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startBunMemory, startListFloor, startNginx } from './baselines';
import { probe, record, unavailable, warmAndRun, writeJson, type Ctx } from './context';
import { runK6 } from './k6';
import type { Pictor } from './pictor';
import type { Entry } from './report';

/** Transformations of the hit URLs (two sizes per corpus photo, explicit WebP: no Vary). */
export const HIT_SEGMENTS = ['w_320,f_webp', 'w_640,f_webp'];
// Ceilings that catch regressions, not noise: the 2-core machine is shared with k6 and others.
const HIT_THRESHOLDS = { P95_MS: 50, P99_MS: 200 };

/** Renders every hit URL once, checks the second answer comes from `tier`; returns the reason when it cannot. */
export async function warmHits(ctx: Ctx, p: Pictor, tier: 'HIT-MEMORY' | 'HIT-DISK', rounds = 2): Promise<string | null> {
  if (!ctx.ids.length) return 'no corpus files were uploaded';
  for (const path of ctx.hitPaths) {
    let last = '';
    for (let i = 0; i < rounds; i++) {
      const r = await probe(p.url + path);
      if (!r.ok) return r.reason;
      last = r.res.headers.get('x-cache') ?? '(no X-Cache header)';
    }
    if (last !== tier) return `${path} answered X-Cache ${last} after warming, expected ${tier}`;
  }
  return null;
}

/** Writes the derivative bytes Pictor serves into `work/static` (nginx root) and a manifest (Bun.serve). */
export async function writeStaticTree(ctx: Ctx, p: Pictor): Promise<{ root: string; manifest: Record<string, ManifestEntry> }> {
  const root = join(ctx.work, 'static');
  const manifest: Record<string, ManifestEntry> = {};
  for (const path of ctx.hitPaths) {
    const r = await probe(p.url + path);
    if (!r.ok) throw new Error(r.reason);
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, r.body);
    // Pictor's own response headers, for the Bun.serve baseline that sends the same ones (the
    // date is the runtime's, the request id is made per request there too).
    const headers: Record<string, string> = {};
    r.res.headers.forEach((v, k) => {
      if (k !== 'date' && k !== 'x-request-id') headers[k] = v;
    });
    manifest[path] = { file, type: r.res.headers.get('content-type') ?? 'image/webp', headers };
  }
  return { root, manifest };
}

/** One URL of the Bun.serve baseline (bench/baselines/memory-server.ts). */
interface ManifestEntry {
  file: string;
  type: string;
  /** Sent as they are (plus a fresh X-Request-Id) by the `bun_memory_headers` baseline. */
  headers?: Record<string, string>;
}

/**
 * Scenario 1 + baselines: memory hits vs nginx vs raw Bun.serve on the same bytes, URLs and
 * VUs. Two rounds in mirrored order (Pictor, nginx, Bun, then Bun, nginx, Pictor), so a load
 * change on the shared machine hits both sides alike; each keeps its better round.
 */
export async function runHits(ctx: Ctx, p: Pictor): Promise<void> {
  ctx.hitPaths = ctx.ids.flatMap((id) => HIT_SEGMENTS.map((seg) => `/t/${seg}/${id}`));
  const problem = await warmHits(ctx, p, 'HIT-MEMORY');
  if (problem) {
    for (const k of ['hits_memory', 'nginx', 'bun_memory']) unavailable(ctx, k, k === 'hits_memory' ? 'scenario' : 'baseline', k, problem);
    return;
  }
  const { root, manifest } = await writeStaticTree(ctx, p);
  const urls = (base: string) => writeJson(ctx, 'hits', ctx.hitPaths.map((x) => base + x));
  const vus = ctx.s.vusHits;
  const ng = await startNginx(root, join(ctx.work, 'nginx-1'), 1, 'image/webp').catch((err: Error) => err);
  const plain = Object.fromEntries(Object.entries(manifest).map(([k, { headers: _h, ...m }]) => [k, m]));
  const bun = await startBunMemory(await writeJson(ctx, 'manifest', plain)).catch((err: Error) => err);
  const headersFile = await writeJson(ctx, 'manifest-headers', manifest);
  const bunHeaders = await startBunMemory(headersFile).catch((err: Error) => err);
  const bunPeer = await startBunMemory(headersFile, true).catch((err: Error) => err);
  if (ng instanceof Error) unavailable(ctx, 'nginx', 'baseline', 'nginx static, 1 worker', ng.message);
  if (bun instanceof Error) unavailable(ctx, 'bun_memory', 'baseline', 'raw Bun.serve from memory', bun.message);
  if (bunHeaders instanceof Error) unavailable(ctx, 'bun_memory_headers', 'baseline', "Bun.serve from memory with Pictor's headers", bunHeaders.message);
  if (bunPeer instanceof Error) unavailable(ctx, 'bun_memory_peer', 'baseline', "Bun.serve from memory with Pictor's headers, reading the peer address", bunPeer.message);
  type Side = { key: string; kind: 'scenario' | 'baseline'; title: string; url: string; pid: number; env: Record<string, number>; config?: Record<string, string> };
  const sides: Side[] = [{ key: 'hits_memory', kind: 'scenario', title: 'memory-cache hits on /t', url: p.url, pid: p.pid, env: HIT_THRESHOLDS }];
  if (!(ng instanceof Error)) sides.push({ key: 'nginx', kind: 'baseline', title: 'nginx static, 1 worker', url: ng.url, pid: ng.pid, env: {}, config: { worker_processes: '1' } });
  if (!(bun instanceof Error)) sides.push({ key: 'bun_memory', kind: 'baseline', title: 'raw Bun.serve from memory', url: bun.url, pid: bun.pid, env: {} });
  if (!(bunHeaders instanceof Error)) sides.push({ key: 'bun_memory_headers', kind: 'baseline', title: "Bun.serve from memory with Pictor's response headers", url: bunHeaders.url, pid: bunHeaders.pid, env: {} });
  if (!(bunPeer instanceof Error)) sides.push({ key: 'bun_memory_peer', kind: 'baseline', title: "Bun.serve from memory with Pictor's response headers, reading the peer address", url: bunPeer.url, pid: bunPeer.pid, env: {} });
  try {
    for (const [round, order] of [sides, [...sides].reverse()].entries()) {
      for (const side of order) {
        const before = ctx.entries[side.key];
        const file = await urls(side.url);
        // The first round warms (JIT, keep-alive pools) outside the sampled window, so the CPU
        // per hit (CPU seconds over the window / requests in it) counts only measured requests.
        if (round === 0) await runK6('get.js', { URLS_FILE: file, VUS: vus, DURATION: ctx.s.warmup });
        const now = await record(ctx, side.key, side.kind, side.title, side.pid, async () => ({ load: await runK6('get.js', { URLS_FILE: file, VUS: vus, DURATION: ctx.s.duration, ...side.env }) }), side.config);
        keepBetter(ctx, side.key, before, now, round);
      }
    }
  } finally {
    if (!(ng instanceof Error)) await ng.stop();
    if (!(bun instanceof Error)) await bun.stop();
    if (!(bunHeaders instanceof Error)) await bunHeaders.stop();
    if (!(bunPeer instanceof Error)) await bunPeer.stop();
  }
}

/** nginx baseline with `workers` processes over the same static tree. */
export async function runNginx(ctx: Ctx, root: string, workers: number, key: string, urls: (base: string) => Promise<string>): Promise<void> {
  const ng = await startNginx(root, join(ctx.work, `nginx-${key}`), workers, 'image/webp').catch((err: Error) => err);
  if (ng instanceof Error) return unavailable(ctx, key, 'baseline', `nginx ${workers} worker(s)`, ng.message);
  try {
    await record(ctx, key, 'baseline', `nginx static, ${workers} worker(s)`, ng.pid, async () => ({ load: await warmAndRun(ctx, 'get.js', { URLS_FILE: await urls(ng.url), VUS: ctx.s.vusHits }, true) }), { worker_processes: String(workers) });
  } finally {
    await ng.stop();
  }
}

/** Keeps whichever of a side's two rounds served more hits/s (its CPU per hit comes with it). */
function keepBetter(ctx: Ctx, key: string, before: Entry | undefined, now: Entry | null, round: number): void {
  const keep = before?.load && (!now?.load || before.load.rps >= now.load.rps) ? before : now;
  if (keep) ctx.entries[key] = { ...keep, extra: { ...keep.extra, rounds: round + 1, best_of: 'rps' } };
}

/**
 * A hits run on a variant server (limiter off, in-process limiter, WORKERS=2, disk tier only):
 * two measured windows after the warm-up, the better kept, as the main server's hits get.
 */
export async function runHitVariant(ctx: Ctx, p: Pictor, key: string, kind: 'scenario' | 'variant', title: string, tier: 'HIT-MEMORY' | 'HIT-DISK', config: Record<string, string>): Promise<void> {
  const problem = ctx.hitPaths.length ? await warmHits(ctx, p, tier, tier === 'HIT-MEMORY' ? 4 : 2) : 'hit URLs were not prepared (memory-hit scenario unavailable)';
  if (problem) return unavailable(ctx, key, kind, title, problem);
  const file = await writeJson(ctx, 'hits', ctx.hitPaths.map((x) => p.url + x));
  await runK6('get.js', { URLS_FILE: file, VUS: ctx.s.vusHits, DURATION: ctx.s.warmup });
  delete ctx.entries[key];
  for (let round = 0; round < 2; round++) {
    const before = ctx.entries[key];
    const now = await record(ctx, key, kind, title, p.pid, async () => ({ load: await runK6('get.js', { URLS_FILE: file, VUS: ctx.s.vusHits, DURATION: ctx.s.duration, ...HIT_THRESHOLDS }) }), config);
    keepBetter(ctx, key, before, now, round);
  }
}

/**
 * Scenario 4: originals on /i, whole and with a 64 KiB Range (206), and nginx serving the same
 * bytes from a static tree on the same URLs (sendfile on). Whole files run in mirrored order
 * (Pictor, nginx, nginx, Pictor), each side keeping its better round, like the hits.
 */
export async function runOriginals(ctx: Ctx, p: Pictor): Promise<void> {
  if (!ctx.ids.length) {
    for (const k of ['originals', 'originals_range', 'nginx_originals']) unavailable(ctx, k, k.startsWith('nginx') ? 'baseline' : 'scenario', k, 'no corpus files were uploaded');
    return;
  }
  const whole = await probe(`${p.url}/i/${ctx.ids[0]}`);
  const ranged = await probe(`${p.url}/i/${ctx.ids[0]}`, { headers: { range: 'bytes=0-65535' } }, [206]);
  const paths = ctx.ids.map((id) => `/i/${id}`);
  const file = await writeJson(ctx, 'originals', paths.map((x) => p.url + x));
  const env = { VUS: ctx.s.vusApi, P95_MS: 1000, P99_MS: 2000 };
  if (!whole.ok) {
    unavailable(ctx, 'originals', 'scenario', 'originals /i', whole.reason);
  } else {
    const root = join(ctx.work, 'static-originals');
    let bytes = 0;
    for (const path of paths) {
      const r = await probe(p.url + path);
      if (!r.ok) return unavailable(ctx, 'originals', 'scenario', 'originals /i', r.reason);
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), r.body);
      bytes += r.body.byteLength;
    }
    const length = whole.res.headers.get('content-length');
    const extra = { content_length: length !== null && Number(length) === whole.body.byteLength, mean_kib: Math.round(bytes / paths.length / 1024) };
    const ng = await startNginx(root, join(ctx.work, 'nginx-originals'), 1, 'image/jpeg').catch((err: Error) => err);
    if (ng instanceof Error) unavailable(ctx, 'nginx_originals', 'baseline', 'nginx static originals, 1 worker', ng.message);
    const sides: { key: string; kind: 'scenario' | 'baseline'; title: string; url: string; pid: number }[] = [{ key: 'originals', kind: 'scenario', title: 'originals /i (whole file)', url: p.url, pid: p.pid }];
    if (!(ng instanceof Error)) sides.push({ key: 'nginx_originals', kind: 'baseline', title: 'nginx static originals, 1 worker (sendfile)', url: ng.url, pid: ng.pid });
    try {
      for (const order of [sides, [...sides].reverse()]) {
        for (const side of order) {
          const before = ctx.entries[side.key];
          const urls = await writeJson(ctx, 'originals', paths.map((x) => side.url + x));
          const now = await record(ctx, side.key, side.kind, side.title, side.pid, async () => ({ load: await warmAndRun(ctx, 'get.js', { URLS_FILE: urls, ...env }, true), extra }));
          const keep = before?.load && (!now?.load || before.load.rps >= now.load.rps) ? before : now;
          if (keep) ctx.entries[side.key] = keep;
        }
      }
    } finally {
      if (!(ng instanceof Error)) await ng.stop();
    }
  }
  if (!ranged.ok) unavailable(ctx, 'originals_range', 'scenario', 'originals /i with Range', ranged.reason);
  else {
    const headers = JSON.stringify({ Range: 'bytes=0-65535' });
    await record(ctx, 'originals_range', 'scenario', 'originals /i with Range: bytes=0-65535', p.pid, async () => ({ load: await warmAndRun(ctx, 'get.js', { URLS_FILE: file, HEADERS: headers, VUS: ctx.s.vusApi, P95_MS: 100, P99_MS: 200 }) }));
  }
}

/**
 * Scenario 7: `GET /api/files` pages 1..N by cursor at 100 000 rows. On Postgres, measured in
 * mirrored rounds (Pictor, floor, floor, Pictor; each keeps its lower p95) against the floor: a
 * minimal server running Pictor's own statements (bench/baselines/list-floor-server.ts), whose
 * answers are checked equal to Pictor's first.
 */
export async function runList(ctx: Ctx, p: Pictor, key: string, apiKey: string | undefined, config: Record<string, string>): Promise<void> {
  const kind = key === 'list_postgres' ? 'scenario' : 'variant';
  if (!apiKey) return unavailable(ctx, key, kind, 'GET /api/files', 'no API key (account seeding failed)');
  const headers = { 'x-api-key': apiKey };
  const paths: string[] = [];
  let next: string | null = '/api/files?limit=50';
  let count = 0;
  let first: { body: string; base: string } | null = null;
  while (next && paths.length < ctx.s.listPages) {
    const r = await probe(p.url + next, { headers });
    if (!r.ok) return unavailable(ctx, key, kind, 'GET /api/files', r.reason);
    paths.push(next);
    const body = new TextDecoder().decode(r.body);
    const page = JSON.parse(body) as { count?: number; next_cursor?: string | null; results?: { download_url: string }[] };
    first ??= { body, base: page.results?.[0]?.download_url.replace(/\/d\/[^/]+$/, '') ?? '' };
    count = page.count ?? count;
    next = page.next_cursor ? `/api/files?limit=50&cursor=${encodeURIComponent(page.next_cursor)}` : null;
  }
  if (count < 100_000) return unavailable(ctx, key, kind, 'GET /api/files', `list reports count ${count}, expected ≥ 100000 seeded rows`);
  const env = { HEADERS: JSON.stringify({ 'X-API-Key': apiKey }), VUS: ctx.s.vusList };
  type Side = { key: string; kind: Entry['kind']; title: string; url: string; pid: number };
  const run = async (side: Side, warm: boolean) => {
    const file = await writeJson(ctx, 'list', paths.map((x) => side.url + x));
    const ours = side.key === key; // the target's threshold is Pictor's, not the baseline's
    // The warm-up runs outside the sampled window, so the CPU per page counts only measured pages.
    if (warm) await runK6('get.js', { URLS_FILE: file, ...env, DURATION: ctx.s.warmup });
    const load = () => runK6('get.js', { URLS_FILE: file, ...env, DURATION: ctx.s.duration, P95_MS: ours ? (key === 'list_postgres' ? 10 : 25) : undefined });
    return record(ctx, side.key, side.kind, side.title, side.pid, async () => ({ load: await load(), extra: { files: count, pages: paths.length } }), ours ? config : undefined);
  };
  const pictor: Side = { key, kind, title: `GET /api/files pages over ${count} files`, url: p.url, pid: p.pid };
  if (key !== 'list_postgres' || !ctx.account || !first) {
    await run(pictor, !ctx.s.quick);
    return;
  }
  const floor = await startListFloor(ctx.databaseUrl, ctx.account.userId, first.base).catch((err: Error) => err);
  const floorTitle = "a minimal Bun.serve running Pictor's list statements on the same Postgres";
  if (floor instanceof Error) {
    unavailable(ctx, 'list_floor', 'baseline', floorTitle, floor.message);
    await run(pictor, !ctx.s.quick);
    return;
  }
  try {
    const same = await probe(floor.url + paths[0]);
    const sides = [pictor];
    if (!same.ok) unavailable(ctx, 'list_floor', 'baseline', floorTitle, same.reason);
    else if (new TextDecoder().decode(same.body) !== first.body) unavailable(ctx, 'list_floor', 'baseline', floorTitle, "its first page differs from Pictor's");
    else sides.push({ key: 'list_floor', kind: 'baseline', title: floorTitle, url: floor.url, pid: floor.pid });
    for (const [round, order] of [sides, [...sides].reverse()].entries()) {
      for (const side of order) {
        const before = ctx.entries[side.key];
        const now = await run(side, round === 0);
        const keep = before?.load && (!now?.load || before.load.p95_ms <= now.load.p95_ms) ? before : now;
        if (keep) ctx.entries[side.key] = { ...keep, extra: { ...keep.extra, rounds: round + 1, best_of: 'p95' } };
      }
    }
  } finally {
    await floor.stop();
  }
}
