import { describe, expect, test } from 'bun:test';
import type { Readable } from 'node:stream';
import { isStorageUnavailable } from '../errors';
import { createPartQueue, partPool, sendLive } from './s3-parts';

/** A promise settled from outside. */
function deferred() {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('part queue', () => {
  /** A queue over a pool of 16-byte buffers, with two buffers taken for two parts. */
  function twoParts() {
    const pool = partPool(16);
    return { pool, queue: createPartQueue(pool), a: pool.take(), b: pool.take(), first: deferred(), second: deferred() };
  }

  test('one part in flight besides the one filling: the next buffer waits for it, then is its buffer', async () => {
    const { queue, a, b, first, second } = twoParts();
    queue.add(first.promise, a);
    expect(await queue.nextBuffer()).not.toBe(a); // one in flight: a fresh buffer, no wait
    queue.add(second.promise, b);
    let got = null as Uint8Array | null; // a cast: set in the callback below
    const next = queue.nextBuffer().then((buf) => (got = buf));
    await Bun.sleep(5);
    expect(got).toBeNull(); // two in flight: waits
    first.resolve();
    await next;
    expect(got).toBe(a);
    second.resolve();
    await queue.settle();
  });

  test('a failed part is thrown by throwIfFailed and settle, never by nextBuffer, and each buffer goes back once', async () => {
    const { pool, queue, a, b, first: failing, second: ok } = twoParts();
    queue.add(failing.promise, a);
    queue.add(ok.promise, b);
    const next = queue.nextBuffer();
    failing.reject(new Error('part 1 refused'));
    const c = await next; // the failed part's buffer, not an exception
    expect(c).toBe(a);
    expect(() => queue.throwIfFailed()).toThrow('part 1 refused');
    ok.resolve();
    await expect(queue.settle()).rejects.toThrow('part 1 refused');
    queue.release();
    pool.give(c);
    pool.give(c); // a second give of the same buffer is ignored
    const taken = [pool.take(), pool.take(), pool.take()];
    expect(new Set(taken).size).toBe(3);
    expect(taken).toContain(a);
    expect(taken).toContain(b);
  });
});

describe('sendLive', () => {
  async function collect(stream: Readable): Promise<{ writes: number; bytes: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return { writes: chunks.length, bytes: Buffer.concat(chunks) };
  }

  test('queues the filled bytes in large writes and ends the body at its size', async () => {
    const size = 1024 * 1024 + 100;
    const buffer = new Uint8Array(size).map((_, i) => i % 251);
    let body: Promise<{ writes: number; bytes: Buffer }> | null = null;
    const live = sendLive(buffer, size, (stream) => (body = collect(stream)));
    for (let filled = 64 * 1024; filled < size; filled += 64 * 1024) live.advance(filled);
    expect(live.ended).toBe(false);
    live.advance(size);
    expect(live.ended).toBe(true);
    const got = await body!;
    expect(got.bytes.equals(Buffer.from(buffer))).toBe(true);
    expect(got.writes).toBeLessThanOrEqual(3); // 512 KiB at a time, not one per 64 KiB
  });

  test('a part the storage drops fails as a storage call the error mapper knows (the SDK threw a streamed part\'s fetch error bare: a 500)', async () => {
    // What the SDK throws for a request with a streamed body that lost its connection: no `$metadata`.
    const reset = Object.assign(new TypeError('The socket connection was closed unexpectedly'), { code: 'ECONNRESET' });
    const live = sendLive(new Uint8Array(8), 8, () => Promise.reject(reset));
    const err = await live.done.catch((e: unknown) => e);
    expect(err).toBe(reset);
    expect(isStorageUnavailable(err)).toBe(true);
    // The body failing on the client's side is no outage of the storage.
    const dropped = sendLive(new Uint8Array(8), 8, (_b, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    dropped.drop();
    expect(isStorageUnavailable(await dropped.done.catch((e: unknown) => e))).toBe(false);
  });

  test('drop aborts the request', async () => {
    let signal: AbortSignal | null = null;
    const live = sendLive(new Uint8Array(10), 10, (_stream, s) => {
      signal = s;
      return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    });
    live.advance(4);
    live.drop();
    expect(signal!.aborted).toBe(true);
    await expect(live.done).rejects.toThrow('the body ended before this part');
  });
});
