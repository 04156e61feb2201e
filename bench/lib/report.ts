/**
 * Turns the run's entries into ratios against same-run baselines, the acceptance targets
 * (met / not met / not available, with the reason), and the markdown summary.
 */
import type { LoadResult } from './k6';
import type { ProcStats } from './procs';

export interface Entry {
  title: string;
  kind: 'scenario' | 'baseline' | 'variant';
  available: boolean;
  /** Why it is not available (route missing, service down…): never a made-up figure. */
  reason?: string;
  load?: LoadResult;
  /** Server (or baseline process) RSS and CPU while the load ran. */
  server?: ProcStats;
  extra?: Record<string, number | string | boolean>;
  /** The settings that differ from the main configuration. */
  config?: Record<string, string>;
}

export interface Ratio {
  name: string;
  value: number | null;
  target?: string;
  met?: boolean | null;
  note: string;
}

type Entries = Record<string, Entry>;

const rps = (e: Entries, k: string) => (e[k]?.available ? e[k]?.load?.rps ?? null : null);
const num = (e: Entries, k: string, f: string) => {
  const v = e[k]?.available ? e[k]?.extra?.[f] : undefined;
  return typeof v === 'number' ? v : null;
};
const div = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null);
const why = (e: Entries, ...keys: string[]) =>
  keys.map((k) => (e[k] && !e[k]!.available ? `${k}: ${e[k]!.reason}` : !e[k] ? `${k}: not run` : '')).filter(Boolean).join('; ');

/** The ratios and targets of acceptance point 2 and 3. */
export function computeRatios(e: Entries): Ratio[] {
  const out: Ratio[] = [];
  const add = (name: string, value: number | null, min: number | null, note: string, missing: string[]) => {
    const met = value === null ? null : min === null ? undefined : value >= min;
    out.push({ name, value, target: min === null ? undefined : `≥ ${min}`, met, note: value === null ? `not available — ${why(e, ...missing)}` : note });
  };
  add('memory-cache hits / nginx', div(rps(e, 'hits_memory'), rps(e, 'nginx')), 1.2, 'same URLs, bytes, VUs; nginx worker_processes = WORKERS', ['hits_memory', 'nginx']);
  add('memory-cache hits / raw Bun.serve', div(rps(e, 'hits_memory'), rps(e, 'bun_memory')), 0.85, 'same URLs, bytes, VUs', ['hits_memory', 'bun_memory']);
  add('cold transforms / raw sharp', div(rps(e, 'cold_transforms'), rps(e, 'sharp')), 0.9, 'same ops, sources, concurrency and libvips settings', ['cold_transforms', 'sharp']);
  const avif = num(e, 'cold_formats', 'avif_jpeg_cpu_1200');
  out.push({
    name: 'cold AVIF / JPEG render, 18 MP → 1200 px (CPU)', value: avif, target: '≤ 2', met: avif === null ? null : avif <= 2,
    note: avif === null ? `not available — ${why(e, 'cold_formats')}` : `median of per-round ratios, bench/formats.ts (→ 400 px: ${num(e, 'cold_formats', 'avif_jpeg_cpu_400') ?? '—'})`,
  });
  add('1 GiB upload MB/s / raw stream-to-disk', div(num(e, 'upload_big_fs', 'mb_per_s'), num(e, 'upload_sink', 'mb_per_s')), 0.8, 'same client (curl -T), same file', ['upload_big_fs', 'upload_sink']);
  const rss = num(e, 'upload_big_fs', 'rss_growth_mib');
  out.push({ name: '1 GiB upload peak RSS growth (MiB)', value: rss, target: '< 64', met: rss === null ? null : rss < 64, note: rss === null ? `not available — ${why(e, 'upload_big_fs')}` : 'server tree RSS sampled every 50 ms' });
  const rssS3 = num(e, 'upload_big_s3', 'rss_growth_mib');
  out.push({ name: '1 GiB upload to S3 (MinIO) peak RSS growth (MiB)', value: rssS3, target: '< 64', met: rssS3 === null ? null : rssS3 < 64, note: rssS3 === null ? `not available — ${why(e, 'upload_big_s3')}` : 'a fresh server\'s first upload (Bun\'s S3 client on Bun)' });
  add('rate limiting on / off (hits)', div(rps(e, 'hits_memory'), rps(e, 'hits_memory_limiter_off')), 0.8, 'Redis sliding window on every public request vs DISABLE_RATE_LIMIT', ['hits_memory', 'hits_memory_limiter_off']);
  add('WORKERS=2 / WORKERS=1 (hits)', div(rps(e, 'hits_memory_workers2'), rps(e, 'hits_memory')), null, 'k6 shares the same 2 cores', ['hits_memory_workers2', 'hits_memory']);
  add('WORKERS=2 hits / nginx 2 workers', div(rps(e, 'hits_memory_workers2'), rps(e, 'nginx_workers2')), null, 'both sides with 2 processes', ['hits_memory_workers2', 'nginx_workers2']);
  add('disk-cache hits / memory-cache hits (limiter off)', div(rps(e, 'hits_disk'), rps(e, 'hits_memory_limiter_off')), null, 'CACHE_MEMORY_BYTES=0 vs 256MiB, both DISABLE_RATE_LIMIT=true', ['hits_disk', 'hits_memory_limiter_off']);
  add('memory-cache hits / raw Bun.serve (limiter off)', div(rps(e, 'hits_memory_limiter_off'), rps(e, 'bun_memory')), null, 'what the hit path costs without the limiter', ['hits_memory_limiter_off', 'bun_memory']);
  add('cold transforms TRANSFORM_CONCURRENCY=1 / default', div(rps(e, 'cold_transforms_tc1'), rps(e, 'cold_transforms')), null, 'default = CPU cores', ['cold_transforms_tc1', 'cold_transforms']);
  for (const k of Object.keys(e).filter((k) => /^cold_transforms_tc\d+$/.test(k) && k !== 'cold_transforms_tc1')) {
    add(`cold transforms TRANSFORM_CONCURRENCY=${k.slice(18)} / default`, div(rps(e, k), rps(e, 'cold_transforms')), null, 'default = CPU cores', [k, 'cold_transforms']);
  }
  add('1 GiB upload S3 / fs (MB/s)', div(num(e, 'upload_big_s3', 'mb_per_s'), num(e, 'upload_big_fs', 'mb_per_s')), null, 'MinIO on the same disk', ['upload_big_s3', 'upload_big_fs']);
  add('API-key GET /api/profile / GET /health', num(e, 'api_key_auth', 'profile_to_health'), null, 'auth.js from the auth issue, same server', ['api_key_auth']);
  add('REQUEST_LOGS off / on (API-key /api/profile req/s)', div(num(e, 'api_key_auth_logs_off', 'profile_rps'), num(e, 'api_key_auth', 'profile_rps')), null, 'cost of per-account request logs', ['api_key_auth_logs_off', 'api_key_auth']);
  add('job queue jobs/s / plain INSERTs/s', num(e, 'queue', 'ratio_to_baseline'), null, `queue.ts from the queue issue: ${num(e, 'queue', 'jobs_per_s') ?? '—'} jobs/s end to end`, ['queue']);
  const p95 = e.list_postgres?.available ? e.list_postgres.load?.p95_ms ?? null : null;
  out.push({ name: 'GET /api/files p95 at 100 000 files, Postgres (ms)', value: p95, target: '< 15', met: p95 === null ? null : p95 < 15, note: p95 === null ? `not available — ${why(e, 'list_postgres')}` : 'pages 1..N by cursor, limit 50' });
  const p95l = e.list_pglite?.available ? e.list_pglite.load?.p95_ms ?? null : null;
  out.push({ name: 'GET /api/files p95 at 100 000 files, PGlite (ms)', value: p95l, note: p95l === null ? `not available — ${why(e, 'list_pglite')}` : 'embedded database, same pages' });
  const ran = Object.entries(e).filter(([, v]) => v.kind !== 'baseline' && v.available && v.load);
  const bad = ran.filter(([, v]) => (v.load?.unexpected ?? 0) > 0).map(([k, v]) => `${k}: ${v.load?.unexpected}`);
  out.push({ name: 'responses outside 2xx/3xx (except intended 429/503)', value: ran.reduce((s, [, v]) => s + (v.load?.unexpected ?? 0), 0), target: '= 0', met: bad.length === 0, note: bad.length ? bad.join(', ') : `${ran.length} load scenarios checked` });
  return out;
}

const f = (n: number | null | undefined, d = 1) => (n === null || n === undefined ? '—' : n.toFixed(d));

/** The markdown summary (also printed). */
export function renderMarkdown(meta: Record<string, unknown>, e: Entries, ratios: Ratio[], notes: Record<string, string>): string {
  const lines: string[] = [];
  lines.push(`# Pictor benchmark — ${meta.date}`, '');
  lines.push(`Machine: ${meta.machine}. Command: \`${meta.command}\`. Corpus: ${meta.corpus}. Commit ${meta.commit}.`, '');
  const st = meta.settings as Record<string, unknown> | undefined;
  if (st) {
    lines.push(
      `Load: ${st.duration} windows after ${st.warmup} warm-up; VUs hits ${st.vusHits}, originals ${st.vusApi}, list ${st.vusList}, uploads ${st.vusUpload}, login ${st.vusLogin}; ` +
        `cold ${st.coldIterations} distinct renders at concurrency ${st.coldConcurrency}; mixed ${st.mixedRate} req/s offered. k6 runs on the same machine as the servers.`,
      '',
    );
  }
  lines.push('## Scenarios', '');
  lines.push('| scenario | req/s | p50 ms | p95 ms | p99 ms | unexpected | 429/503 | dropped | CPU % | peak RSS MiB | thresholds |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [k, v] of Object.entries(e)) {
    if (!v.available) {
      lines.push(`| ${k} (${v.kind}) | not available: ${v.reason?.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 160)} | | | | | | | | | |`);
      continue;
    }
    const l = v.load;
    const extra = v.extra?.mb_per_s !== undefined
      ? ` — ${v.extra.mib} MiB at ${f(v.extra.mb_per_s as number)} MB/s, RSS +${v.extra.rss_growth_mib} MiB`
      : !l && v.extra ? ` — ${Object.entries(v.extra).map(([k, x]) => `${k} ${x}`).join(', ')}` : '';
    lines.push(
      `| ${k} (${v.kind})${extra} | ${f(l?.rps)} | ${f(l?.p50_ms, 2)} | ${f(l?.p95_ms, 2)} | ${f(l?.p99_ms, 2)} | ${l ? l.unexpected : '—'} | ${l ? l.rejected : '—'} | ${l ? l.dropped : '—'} | ${f(v.server?.cpu_pct, 0)} | ${f(v.server?.peak_rss_mib)} | ${l ? (l.thresholds_ok ? 'ok' : `crossed: ${l.crossed.join('; ')}`) : '—'} |`,
    );
  }
  lines.push('', '## Ratios and targets', '');
  lines.push('| measure | value | target | met | note |', '|---|---:|---|---|---|');
  for (const r of ratios) {
    const met = r.met === undefined ? '' : r.met === null ? 'not available' : r.met ? 'met' : '**not met**';
    lines.push(`| ${r.name} | ${f(r.value, 2)} | ${r.target ?? ''} | ${met} | ${r.note.replace(/\|/g, '/').slice(0, 200)} |`);
  }
  const missed = ratios.filter((r) => r.met === false);
  if (missed.length) {
    lines.push('', '## Targets not met: why, and what would close them', '');
    for (const r of missed) lines.push(`- **${r.name}** (${f(r.value, 2)}, target ${r.target}): ${notes[r.name] ?? 'no analysis yet'}`);
  }
  return lines.join('\n') + '\n';
}
