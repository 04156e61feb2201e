import type { Entry } from './report';

/** The median; of an even count, the mean of the middle two. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Folds a second round's entry into the first: the rate over both (requests / time), the
 * worse of each latency percentile, thresholds held only if held in both. One round alone
 * stands if the other failed.
 */
export function foldRounds(entries: Record<string, Entry>, key: string, second: string): void {
  const a = entries[key];
  const b = entries[second];
  delete entries[second];
  if (!b?.available || !b.load) return;
  if (!a?.available || !a.load || a.load.rps <= 0) {
    if (b.load.rps > 0) entries[key] = b;
    return;
  }
  const x = a.load;
  const y = b.load;
  if (y.rps <= 0) return;
  const seconds = x.requests / x.rps + y.requests / y.rps;
  entries[key] = {
    ...a,
    load: {
      ...x,
      requests: x.requests + y.requests,
      rps: Math.round(((x.requests + y.requests) / seconds) * 10) / 10,
      p50_ms: Math.max(x.p50_ms, y.p50_ms), p95_ms: Math.max(x.p95_ms, y.p95_ms), p99_ms: Math.max(x.p99_ms, y.p99_ms), max_ms: Math.max(x.max_ms, y.max_ms),
      unexpected: x.unexpected + y.unexpected, rejected: x.rejected + y.rejected, dropped: x.dropped + y.dropped,
      thresholds_ok: x.thresholds_ok && y.thresholds_ok, crossed: [...x.crossed, ...y.crossed], duration_s: x.duration_s + y.duration_s,
    },
    extra: { ...a.extra, rounds: 2, round_rps: `${x.rps} / ${y.rps}` },
  };
}
