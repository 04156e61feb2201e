/**
 * A render's deadline, shared by all its sharp stages. sharp's `timeout({ seconds })` kills a
 * pipeline whose evaluation runs past it, but it counts from the start of that one pipeline:
 * a render of several stages (trim, pixelate, rounded corners) gave each a fresh allowance and
 * ran on after its client had its 503. Here every stage gets only the time left, and no stage
 * starts once the deadline has passed or the pool has abandoned the render (`signal`).
 */
import { overloaded } from '../../errors';

export interface RenderDeadline {
  /** Epoch milliseconds. */
  readonly at: number;
  /** Aborted by the pool when it answers the caller with 503. */
  readonly signal?: AbortSignal;
}

export const renderTimedOut = () => overloaded('The transformation took too long and was abandoned.', 1);

/**
 * Seconds left for the next stage, for sharp's `timeout` (whole seconds, at least 1: 0 would
 * mean "no timeout"). Throws 503 once the deadline has passed or the render was abandoned.
 */
export function secondsLeft(d: RenderDeadline, now = Date.now()): number {
  const ms = d.at - now;
  if (ms <= 0 || d.signal?.aborted) throw renderTimedOut();
  return Math.max(1, Math.ceil(ms / 1000));
}

/** sharp's error when its timeout killed a pipeline ("timeout: 57% complete"). */
export const isSharpTimeout = (err: unknown): boolean => err instanceof Error && err.message.startsWith('timeout:');
