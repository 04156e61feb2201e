/**
 * The last hour of this process's traffic, per minute, for the admin page's chart: requests
 * answered, and derivative cache lookups and hits. A ring of 60 slots indexed by minute: a
 * request costs one increment, memory is fixed, and nothing is stored. Cache counters are the
 * cache's own cumulative totals, read at most once a minute (when a request opens a new
 * minute) and at read time, so a minute gets the lookups made since the previous reading.
 * Per process: under `WORKERS=N` each process answers with its own counters (like /metrics).
 */

const SLOTS = 60;
const MINUTE = 60_000;

interface Slot {
  minute: number;
  requests: number;
  errors: number;
  lookups: number;
  hits: number;
}

export interface TrafficMinute {
  at: string;
  requests: number;
  errors: number;
  cache_lookups: number;
  cache_hits: number;
}

export function createTraffic(now: () => number, cacheTotals: () => { lookups: number; hits: number }) {
  const ring: Slot[] = Array.from({ length: SLOTS }, () => ({ minute: -1, requests: 0, errors: 0, lookups: 0, hits: 0 }));
  let seen = cacheTotals();
  let current = -1;

  /** Gives the cache lookups since the last reading to the minute they (mostly) happened in. */
  function settle(): void {
    const totals = cacheTotals();
    if (current >= 0) {
      const s = ring[current % SLOTS]!;
      if (s.minute === current) {
        s.lookups += Math.max(0, totals.lookups - seen.lookups);
        s.hits += Math.max(0, totals.hits - seen.hits);
      }
    }
    seen = totals;
  }

  function slotFor(minute: number): Slot {
    if (minute !== current) {
      settle();
      current = minute;
    }
    const s = ring[minute % SLOTS]!;
    if (s.minute !== minute) Object.assign(s, { minute, requests: 0, errors: 0, lookups: 0, hits: 0 });
    return s;
  }

  return {
    record(status: number): void {
      const s = slotFor(Math.floor(now() / MINUTE));
      s.requests++;
      if (status >= 500) s.errors++;
    },
    /** The 60 minutes up to now, oldest first (minutes without traffic are zeros). */
    lastHour(): TrafficMinute[] {
      const minute = Math.floor(now() / MINUTE);
      slotFor(minute);
      settle();
      const out: TrafficMinute[] = [];
      for (let m = minute - SLOTS + 1; m <= minute; m++) {
        const s = ring[((m % SLOTS) + SLOTS) % SLOTS]!;
        const live = s.minute === m;
        out.push({
          at: new Date(m * MINUTE).toISOString(),
          requests: live ? s.requests : 0,
          errors: live ? s.errors : 0,
          cache_lookups: live ? s.lookups : 0,
          cache_hits: live ? s.hits : 0,
        });
      }
      return out;
    },
  };
}

export type Traffic = ReturnType<typeof createTraffic>;
