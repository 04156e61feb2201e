/**
 * The sliding-window algorithm, in process. `lua.ts` is the same algorithm for Redis.
 *
 * Why a quantised sliding log: an exact sliding log stores one entry per request (6000 per
 * IP for `public`, and cannot weight bytes cheaply); the two-window weighted counter is O(1)
 * but assumes uniform traffic and can admit almost 2× the limit in a burst across the window
 * edge. Here each window is cut into `SLOTS` (60) slots of `slotMs`; a key keeps one counter
 * per slot it used (its weight and the time of its latest request), so memory is bounded
 * (≤ 61 slots) and counting is exact.
 *
 * Error bound: a slot's weight is released `windowMs` after the slot's latest request. Weight
 * consumed at time t is so released at most `slotMs = windowMs / 60` (1.7 %) later than an exact
 * sliding log would release it, and never earlier: the limit is never exceeded in any window of
 * `windowMs`. And since that latest request is never in the future, a denied client is never
 * told to wait longer than the window (`Retry-After` ≤ window; releasing at the slot's end + the
 * window, as before, said 61 s for a 60 s window). `resetAt` and `retryAfterMs` are exact for this rule.
 */
import { slotMsOf, type WindowDecision, type WindowRule } from './types';

interface Slot {
  idx: number;
  weight: number;
  /** Epoch ms of the latest request counted in this slot; the slot is released `windowMs` after it. */
  last: number;
}

/** The counted weight of one key: slots in ascending order, with their running total. */
export class SlidingWindow {
  private slots: Slot[] = [];
  private total = 0;

  /** Checks `weight` against `rule` at `now`; counts it when allowed and `consume` is set. */
  decide(now: number, rule: WindowRule, weight: number, consume: boolean): WindowDecision {
    const slotMs = slotMsOf(rule.windowMs);
    this.expire(now - rule.windowMs);
    const allowed = this.total + weight <= rule.max;
    if (allowed && consume && weight > 0) this.add(Math.floor(now / slotMs), weight, now);
    const releaseAt = (s: Slot) => s.last + rule.windowMs;
    const oldest = this.slots[0];
    return {
      allowed,
      limit: rule.max,
      remaining: Math.max(0, rule.max - this.total),
      resetAt: oldest ? releaseAt(oldest) : now,
      retryAfterMs: allowed ? 0 : this.waitFor(now, this.total + weight - rule.max, weight > rule.max, rule.windowMs, releaseAt) - now,
    };
  }

  /** True when nothing is counted (the key can be forgotten). */
  isEmpty(): boolean {
    return this.total === 0;
  }

  /** Drops the oldest slots whose latest request is at or before `cutoff` (their weight has left the window). */
  private expire(cutoff: number): void {
    let drop = 0;
    while (drop < this.slots.length && this.slots[drop]!.last <= cutoff) this.total -= this.slots[drop++]!.weight;
    if (drop) this.slots.splice(0, drop);
  }

  private add(idx: number, weight: number, now: number): void {
    this.total += weight;
    // Usually the newest slot or a new one at the end; a clock step back inserts in order.
    let i = this.slots.length;
    while (i > 0 && this.slots[i - 1]!.idx > idx) i--;
    const prev = this.slots[i - 1];
    if (prev && prev.idx === idx) {
      prev.weight += weight;
      prev.last = Math.max(prev.last, now);
    } else this.slots.splice(i, 0, { idx, weight, last: now });
  }

  /** Epoch ms when at least `need` weight will have been released. */
  private waitFor(now: number, need: number, impossible: boolean, windowMs: number, releaseAt: (s: Slot) => number): number {
    const newest = this.slots[this.slots.length - 1];
    // A weight above the limit never fits; tell the client when the window is at least empty.
    if (impossible) return newest ? releaseAt(newest) : now + windowMs;
    let freed = 0;
    for (const s of this.slots) {
      freed += s.weight;
      if (freed >= need) return releaseAt(s);
    }
    return newest ? releaseAt(newest) : now;
  }
}

/** Concurrency leases of one key: id → expiry (epoch ms). */
export class LeaseSet {
  private leases = new Map<string, number>();

  /** Frees expired leases; returns how many are held. */
  prune(now: number): number {
    for (const [id, exp] of this.leases) if (exp <= now) this.leases.delete(id);
    return this.leases.size;
  }

  acquire(now: number, max: number, ttlMs: number, id: string): boolean {
    if (this.prune(now) >= max) return false;
    this.leases.set(id, now + ttlMs);
    return true;
  }

  renew(now: number, id: string, ttlMs: number): boolean {
    this.prune(now);
    if (!this.leases.has(id)) return false;
    this.leases.set(id, now + ttlMs);
    return true;
  }

  release(id: string): void {
    this.leases.delete(id);
  }

  /** Soonest expiry of a held lease, or `now` when none. */
  soonest(now: number): number {
    let min = Infinity;
    for (const exp of this.leases.values()) min = Math.min(min, exp);
    return min === Infinity ? now : min;
  }

  get size(): number {
    return this.leases.size;
  }
}
