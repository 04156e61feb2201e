import { describe, expect, test } from 'bun:test';
import { coldOps, coldSegment } from './cold';
import type { LoadResult } from './k6';
import { computeRatios, renderMarkdown, type Entry } from './report';

const load = (rps: number, over: Partial<LoadResult> = {}): LoadResult => ({
  requests: rps * 3, rps, p50_ms: 1, p95_ms: 2, p99_ms: 3, max_ms: 4, unexpected: 0, rejected: 0,
  mb_received_per_s: 1, dropped: 0, thresholds_ok: true, crossed: [], duration_s: 3, ...over,
});
const ok = (rps: number, kind: Entry['kind'] = 'scenario', over: Partial<LoadResult> = {}): Entry => ({ title: 't', kind, available: true, load: load(rps, over) });
const byName = (entries: Record<string, Entry>, name: string) => computeRatios(entries).find((r) => r.name === name)!;

describe('bench ratios and targets', () => {
  test('a ratio is the scenario over its same-run baseline, judged against the target', () => {
    const e = { hits_memory: ok(900), hits_memory_limiter_off: ok(1000, 'variant'), originals: ok(70), nginx_originals: ok(100, 'baseline') };
    expect(byName(e, 'rate limiting on / off (hits/s)')).toMatchObject({ value: 0.9, met: true, target: '≥ 0.9' });
    expect(byName(e, 'originals /i / nginx (req/s)')).toMatchObject({ value: 0.7, met: false });
  });

  test('CPU per hit is CPU seconds over the window / requests in it, against Bun.serve', () => {
    const cpu = (rps: number, cpu_s: number, kind: Entry['kind'] = 'scenario'): Entry => ({ ...ok(rps, kind), server: { peak_rss_mib: 0, start_rss_mib: 0, rss_growth_mib: 0, cpu_pct: 0, cpu_s, samples: 1 } });
    // 30 000 requests (rps × 3 s): 1.2 s → 40 µs; 0.9 s → 30 µs.
    const e = { hits_memory: cpu(10_000, 1.2), bun_memory: cpu(10_000, 0.9, 'baseline'), hits_memory_local_limiter: cpu(10_000, 1.11, 'variant') };
    expect(byName(e, 'server CPU per memory hit / Bun.serve, Redis limiter')).toMatchObject({ value: 1.33, met: false });
    expect(byName(e, 'server CPU per memory hit / Bun.serve, in-process limiter')).toMatchObject({ value: 1.23, met: true });
    expect(byName(e, 'server CPU per memory hit / Bun.serve, Redis limiter').note).toContain('40 vs 30');
  });

  test('a missing side is "not available" with its reason, never a number', () => {
    const e: Record<string, Entry> = { originals: ok(1300), nginx_originals: { title: 'n', kind: 'baseline', available: false, reason: 'nginx not found at /usr/sbin/nginx' } };
    const r = byName(e, 'originals /i / nginx (req/s)');
    expect(r.value).toBeNull();
    expect(r.met).toBeNull();
    expect(r.note).toContain('nginx not found');
    expect(byName(e, 'cold renders: time per render / sharp called directly').note).toContain('not run');
  });

  test('upper bounds, RSS bounds, list p95 and start-up use their own fields', () => {
    const e: Record<string, Entry> = {
      upload_big_fs: { title: 'u', kind: 'scenario', available: true, extra: { mb_per_s: 160, rss_growth_mib: 70 } },
      upload_sink: { title: 's', kind: 'baseline', available: true, extra: { mb_per_s: 200 } },
      list_postgres: ok(50, 'scenario', { p95_ms: 12 }),
      list_pglite: ok(50, 'variant', { p95_ms: 12 }),
      startup: { title: 's', kind: 'scenario', available: true, extra: { fresh_ms: 2900, restart_ms: 1600, idle_rss_mib: 250 } },
      sharp: ok(10, 'baseline'),
      cold_transforms: ok(9),
    };
    expect(byName(e, '1 GiB upload MB/s / raw stream-to-disk')).toMatchObject({ value: 0.8, met: true });
    expect(byName(e, '1 GiB upload peak RSS growth (MiB)')).toMatchObject({ value: 70, met: false });
    expect(byName(e, 'GET /api/files p95 at 100 000 files, Postgres (ms)')).toMatchObject({ value: 12, met: false, target: '< 10' });
    expect(byName(e, 'GET /api/files p95 at 100 000 files, PGlite (ms)')).toMatchObject({ value: 12, met: true });
    expect(byName(e, 'first /health 200, fresh DATA_DIR (ms)')).toMatchObject({ value: 2900, met: true });
    expect(byName(e, 'first /health 200, restart (ms)')).toMatchObject({ value: 1600, met: false });
    expect(byName(e, 'idle RSS on embedded defaults (MiB)')).toMatchObject({ value: 250, met: true });
    expect(byName(e, 'cold renders: time per render / sharp called directly')).toMatchObject({ value: 1.11, met: false });
  });

  test('Content-Length and AVIF size against WebP are judged from the scenario extras', () => {
    const e: Record<string, Entry> = {
      originals: { ...ok(10), extra: { content_length: false } },
      cold_formats: { title: 'f', kind: 'scenario', available: true, extra: { avif_kib_1200: 120, webp_kib_1200: 100, avif_kib_400: 10, webp_kib_400: 20, avif_jpeg_cpu_1200: 1.8, avif_jpeg_cpu_400: 1.6 } },
    };
    expect(byName(e, 'originals /i send Content-Length')).toMatchObject({ value: 0, met: false });
    expect(byName(e, 'AVIF bytes / WebP bytes, 18 MP → 1200 px')).toMatchObject({ value: 1.2, met: false });
    expect(byName(e, 'AVIF bytes / WebP bytes, 18 MP → 400 px')).toMatchObject({ value: 0.5, met: true });
    expect(byName(e, 'cold AVIF / JPEG render CPU, 18 MP → 1200 px')).toMatchObject({ met: true });
    expect(byName(e, 'cold AVIF / JPEG render CPU, 18 MP → 400 px')).toMatchObject({ met: false });
  });

  test('unexpected statuses in any load scenario fail the status target; baselines do not count', () => {
    const e = { hits_memory: ok(10), mixed: ok(10, 'scenario', { unexpected: 3, rejected: 9 }), nginx: ok(10, 'baseline', { unexpected: 5 }) };
    const r = byName(e, 'responses outside 2xx/3xx (except intended 429/503)');
    expect(r).toMatchObject({ value: 3, met: false });
    expect(r.note).toBe('mixed: 3');
  });

  test('the markdown lists unavailable rows with their reason and explains missed targets', () => {
    const e: Record<string, Entry> = { hits_memory: ok(100), hits_memory_limiter_off: ok(1000, 'variant'), login: { title: 'l', kind: 'scenario', available: false, reason: 'POST /api/auth/login → 404' } };
    const md = renderMarkdown({ date: 'd', machine: 'm', command: 'c', corpus: 'x', commit: 'y' }, e, computeRatios(e), { 'rate limiting on / off (hits/s)': 'because' });
    expect(md).toContain('| login (scenario) | not available: POST /api/auth/login → 404');
    expect(md).toContain('**rate limiting on / off (hits/s)** (0.10, target ≥ 0.9): because');
  });
});

describe('cold workload', () => {
  test('every URL of a run is distinct, and two salts never share a URL', () => {
    const a = coldOps(200, 1).map(coldSegment);
    const b = coldOps(200, 2).map(coldSegment);
    expect(new Set(a).size).toBe(200);
    expect(a.filter((x) => b.includes(x))).toEqual([]);
  });

  test('no cold URL is one of the warm hit URLs', async () => {
    const { HIT_SEGMENTS } = await import('./hot');
    for (const salt of [1, 2, 3]) expect(coldOps(300, salt).map(coldSegment).filter((x) => HIT_SEGMENTS.includes(x))).toEqual([]);
  });
});
