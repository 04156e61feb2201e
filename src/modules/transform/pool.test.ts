/**
 * The pool's timeout (#17.1): the caller of a render past TRANSFORM_TIMEOUT_MS gets 503, the
 * render is told to stop (its signal aborts), and its slot frees only when it has ended; a
 * request still queued when its time is up never starts. Tasks here are plain promises.
 */
import { describe, expect, test } from 'bun:test';
import { AppError } from '../../errors';
import { createTransformPool } from './pool';

/** A task that runs until `finish()` and records the signal it got. */
function controlled() {
  let finish: () => void = () => {};
  const state: { started: boolean; signal?: AbortSignal } = { started: false };
  const task = (signal: AbortSignal) => {
    state.started = true;
    state.signal = signal;
    return new Promise<string>((resolve) => (finish = () => resolve('done')));
  };
  return { task, state, finish: () => finish() };
}

const code = (p: Promise<unknown>) => p.then(() => 'resolved', (err: unknown) => (err instanceof AppError ? `${err.status} ${err.code}` : String(err)));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await Bun.sleep(10);
  expect(check()).toBe(true);
}

describe('transform pool timeout', () => {
  test('a running task past the timeout: 503 to its caller, its signal aborts, the slot frees when it ends', async () => {
    let idle = 0;
    const pool = createTransformPool({ concurrency: 1, queue: 0, timeoutMs: 50, onIdle: () => idle++ });
    const slow = controlled();
    expect(await code(pool.run('a', slow.task))).toBe('503 OVERLOADED');
    expect(slow.state.signal?.aborted).toBe(true);
    expect(pool.stats()).toMatchObject({ in_flight: 1, timed_out: 1 });
    // Still running: the one slot is taken, so another request is refused at once.
    expect(await code(pool.run('b', async () => 'b'))).toBe('503 OVERLOADED');
    slow.finish();
    await until(() => pool.stats().in_flight === 0);
    expect(idle).toBeGreaterThan(0);
    expect(await pool.run('c', async () => 'served')).toBe('served');
  });

  test('a queued request whose time runs out never starts and leaves the queue', async () => {
    const pool = createTransformPool({ concurrency: 1, queue: 4, timeoutMs: 50 });
    const first = controlled();
    const second = controlled();
    const running = code(pool.run('a', first.task));
    expect(await code(pool.run('b', second.task))).toBe('503 OVERLOADED');
    expect(second.state.started).toBe(false);
    expect(pool.stats().queued).toBe(0);
    expect(await running).toBe('503 OVERLOADED');
    first.finish();
    await until(() => pool.stats().in_flight === 0);
    expect(second.state.started).toBe(false);
    expect(await pool.run('c', async () => 'served')).toBe('served');
  });

  test('a queued request that gets its turn in time runs normally', async () => {
    const pool = createTransformPool({ concurrency: 1, queue: 4, timeoutMs: 10_000 });
    const first = controlled();
    const a = pool.run('a', first.task);
    const b = pool.run('b', async (signal) => (signal.aborted ? 'aborted' : 'ran'));
    expect(pool.stats()).toMatchObject({ in_flight: 1, queued: 1 });
    first.finish();
    expect([await a, await b]).toEqual(['done', 'ran']);
    expect(pool.stats()).toMatchObject({ in_flight: 0, queued: 0, timed_out: 0 });
  });
});
