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
    const e = { hits_memory: ok(1300), nginx: ok(1000, 'baseline'), bun_memory: ok(2000, 'baseline') };
    expect(byName(e, 'memory-cache hits / nginx')).toMatchObject({ value: 1.3, met: true });
    expect(byName(e, 'memory-cache hits / raw Bun.serve')).toMatchObject({ value: 0.65, met: false });
  });

  test('a missing side is "not available" with its reason, never a number', () => {
    const e: Record<string, Entry> = { hits_memory: ok(1300), nginx: { title: 'n', kind: 'baseline', available: false, reason: 'nginx not found at /usr/sbin/nginx' } };
    const r = byName(e, 'memory-cache hits / nginx');
    expect(r.value).toBeNull();
    expect(r.met).toBeNull();
    expect(r.note).toContain('nginx not found');
    expect(byName(e, 'cold transforms / raw sharp').note).toContain('not run');
  });

  test('upload ratio, RSS bound and list p95 use their own fields', () => {
    const e: Record<string, Entry> = {
      upload_big_fs: { title: 'u', kind: 'scenario', available: true, extra: { mb_per_s: 160, rss_growth_mib: 70 } },
      upload_sink: { title: 's', kind: 'baseline', available: true, extra: { mb_per_s: 200 } },
      list_postgres: ok(50, 'scenario', { p95_ms: 12 }),
    };
    expect(byName(e, '1 GiB upload MB/s / raw stream-to-disk')).toMatchObject({ value: 0.8, met: true });
    expect(byName(e, '1 GiB upload peak RSS growth (MiB)')).toMatchObject({ value: 70, met: false });
    expect(byName(e, 'GET /api/files p95 at 100 000 files, Postgres (ms)')).toMatchObject({ value: 12, met: true });
  });

  test('unexpected statuses in any load scenario fail the status target; baselines do not count', () => {
    const e = { hits_memory: ok(10), mixed: ok(10, 'scenario', { unexpected: 3, rejected: 9 }), nginx: ok(10, 'baseline', { unexpected: 5 }) };
    const r = byName(e, 'responses outside 2xx/3xx (except intended 429/503)');
    expect(r).toMatchObject({ value: 3, met: false });
    expect(r.note).toBe('mixed: 3');
  });

  test('the markdown lists unavailable rows with their reason and explains missed targets', () => {
    const e: Record<string, Entry> = { hits_memory: ok(100), bun_memory: ok(1000, 'baseline'), login: { title: 'l', kind: 'scenario', available: false, reason: 'POST /api/auth/login → 404' } };
    const md = renderMarkdown({ date: 'd', machine: 'm', command: 'c', corpus: 'x', commit: 'y' }, e, computeRatios(e), { 'memory-cache hits / raw Bun.serve': 'because' });
    expect(md).toContain('| login (scenario) | not available: POST /api/auth/login → 404');
    expect(md).toContain('**memory-cache hits / raw Bun.serve** (0.10, target ≥ 0.85): because');
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
