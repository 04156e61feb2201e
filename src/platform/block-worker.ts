/**
 * Feeding a stream's bytes to worker threads in 1 MiB blocks: the shared mechanism behind the
 * off-thread SHA-256 (`sha256.ts`) and file writer (`file-sink.ts`) of big uploads.
 *
 * Chunks are copied (one memcpy) into a block of a `SharedArrayBuffer`; a full block's slot
 * number goes to the worker (or to each of several workers: a file's writer and its hasher read
 * the same copy), which does its work on the shared memory and sends the slot back for reuse.
 * Shared memory rather than transferring `ArrayBuffer`s: in Bun a round trip with a transferred
 * 1 MiB buffer costs several times one with a small message, and a GiB upload makes a thousand
 * of them per worker.
 *
 * At most `IN_FLIGHT` blocks per stream are out at once, so a slow worker slows the stream
 * (backpressure) instead of filling memory: a stream holds `SLOTS` MiB, taken from a small
 * pool so that uploads do not allocate (and zero) fresh memory each time. Eight rather than
 * four: the writer stalls now and then while the kernel throttles dirty pages, and with four
 * out the request thread sat waiting for a slot more often (docs/TUNING.md, "Measurements
 * behind code choices").
 *
 * One worker per kind serves every stream of the process; each worker handles messages in
 * order, so a stream's blocks are processed in the order they were sent.
 */

export const BLOCK_BYTES = 1024 * 1024;
const IN_FLIGHT = 8;
const SLOTS = IN_FLIGHT + 1;
const POOL_MAX = 8;

/**
 * Per-stream fields the worker needs: the file writer's descriptor, or the path it opens itself
 * where descriptors belong to one thread (Deno: a descriptor from the request thread is "Bad
 * file descriptor" in a worker).
 */
export interface StreamFields {
  fd?: number;
  path?: string;
  /** Where the stream starts in the file (the writer writes block `pos` at `base + pos`). */
  base?: number;
  /** A resumable hash to continue (`resumable-sha256.ts`: the upload's key; its state at `base`). */
  resume?: string;
}
/**
 * What a worker receives: a block (slot of the stream's shared memory, at stream offset `pos`;
 * the first message of a stream carries the memory), or the end (`drop`: discard, no answer).
 */
export type BlockMessage =
  | (StreamFields & { id: number; slot: number; len: number; pos: number; memory?: SharedArrayBuffer })
  | (StreamFields & { id: number; end: true; drop?: boolean });
/** What a worker answers: a slot done (or failed; slot -1: the end failed), or the result of an ended stream. */
export type BlockReply = { id: number; slot: number; error?: string; code?: string } | { id: number; result: unknown };

interface Listener {
  reply(msg: BlockReply): void;
  fail(err: Error): void;
}

export interface BlockChannel {
  send(msg: BlockMessage): void;
  listeners: Map<number, Listener>;
}

const channels = new Map<string, BlockChannel | null>();
const pool: SharedArrayBuffer[] = [];
let nextId = 1;

/** The worker at `url`, started on first use; null when this runtime cannot start one. */
export function blockChannel(url: URL): BlockChannel | null {
  const key = url.href;
  if (channels.has(key)) return channels.get(key) as BlockChannel | null;
  let channel: BlockChannel | null = null;
  try {
    if (typeof SharedArrayBuffer === 'undefined') throw new Error('no shared memory');
    const worker = new Worker(key, { type: 'module' });
    const listeners = new Map<number, Listener>();
    worker.onmessage = (e: MessageEvent<BlockReply>) => listeners.get(e.data.id)?.reply(e.data);
    worker.onerror = (e) => {
      // Nothing pending can finish now: fail those streams and fall back for new ones.
      channels.set(key, null);
      const err = new Error(`block worker failed: ${(e as ErrorEvent).message ?? 'unknown error'}`);
      for (const l of listeners.values()) l.fail(err);
      listeners.clear();
      worker.terminate();
    };
    // An idle thread must not keep the process (or a test run) alive.
    (worker as Worker & { unref?: () => void }).unref?.();
    channel = { send: (msg) => worker.postMessage(msg), listeners };
  } catch {
    channel = null;
  }
  channels.set(key, channel);
  return channel;
}

/**
 * One stream's side of one or more block channels; `fields` go with each block. With several
 * channels every block goes to each of them (one copy of the bytes feeding, say, a writer and
 * a hasher) and its slot is reused only once all of them are done with it.
 */
export class BlockStream {
  private memory: SharedArrayBuffer | null = pool.pop() ?? new SharedArrayBuffer(SLOTS * BLOCK_BYTES);
  private readonly channels: readonly BlockChannel[];
  private readonly freeSlots: number[] = [];
  /** Per slot, how many channels still hold it. */
  private readonly holders = new Array<number>(SLOTS).fill(0);
  private slot = 0;
  private block: Uint8Array;
  private used = 0;
  private pos = 0;
  private readonly id = nextId++;
  private out = 0;
  private wake: (() => void) | null = null;
  private readonly results: unknown[] = [];
  private resultsLeft = 0;
  private settle: { resolve(v: unknown[]): void; reject(e: Error): void } | null = null;
  private failure: Error | null = null;
  private closed = false;

  constructor(channels: BlockChannel | readonly BlockChannel[], private readonly fields: StreamFields = {}) {
    this.channels = Array.isArray(channels) ? channels : [channels as BlockChannel];
    for (let s = SLOTS - 1; s > 0; s--) this.freeSlots.push(s);
    this.block = this.view(0);
    this.channels.forEach((channel, index) => channel.listeners.set(this.id, {
      reply: (msg) => {
        if ('result' in msg) {
          this.results[index] = msg.result;
          if (--this.resultsLeft === 0) this.settle?.resolve(this.results);
          return;
        }
        if (msg.slot >= 0 && --(this.holders[msg.slot] as number) === 0) {
          this.out--;
          this.freeSlots.push(msg.slot);
        }
        if (msg.error !== undefined) {
          // The errno code crosses the thread too: callers tell a full disk (ENOSPC) from other failures.
          this.failure ??= Object.assign(new Error(msg.error), msg.code ? { code: msg.code } : {});
          this.settle?.reject(this.failure);
        }
        this.notify();
      },
      fail: (err) => {
        this.failure ??= err;
        this.out = 0;
        this.settle?.reject(err);
        this.notify();
      },
    }));
  }

  private view(slot: number): Uint8Array {
    return new Uint8Array(this.memory as SharedArrayBuffer, slot * BLOCK_BYTES, BLOCK_BYTES);
  }

  private notify() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async waitUntil(ready: () => boolean): Promise<void> {
    while (!ready() && !this.failure) await new Promise<void>((r) => (this.wake = r));
    if (this.failure) throw this.failure;
  }

  /** The bytes copied but not shipped yet (a caller may handle a short stream itself). */
  pending(): Uint8Array {
    return this.block.subarray(0, this.used);
  }

  /** True once any block has gone to the workers. */
  get started(): boolean {
    return this.pos > 0;
  }

  private send() {
    this.out++;
    this.holders[this.slot] = this.channels.length;
    const memory = this.pos === 0 ? this.memory as SharedArrayBuffer : undefined;
    for (const channel of this.channels) {
      channel.send({ ...this.fields, id: this.id, slot: this.slot, len: this.used, pos: this.pos, memory });
    }
    this.pos += this.used;
    this.used = 0;
  }

  /** Sends the current block and moves to a free slot; waits only when every slot is out. */
  private ship(): void | Promise<void> {
    this.send();
    const next = () => {
      this.slot = this.freeSlots.pop() as number;
      this.block = this.view(this.slot);
    };
    if (this.freeSlots.length) return next();
    return this.waitUntil(() => this.freeSlots.length > 0).then(next);
  }

  /** Copies `chunk` in, shipping each block that fills; copied by the time this returns or its promise settles. */
  write(chunk: Uint8Array): void | Promise<void> {
    if (this.closed) throw new Error('block stream already ended');
    if (this.failure) throw this.failure;
    let off = 0;
    const fill = (): void | Promise<void> => {
      while (off < chunk.byteLength) {
        const n = Math.min(BLOCK_BYTES - this.used, chunk.byteLength - off);
        this.block.set(n === chunk.byteLength ? chunk : chunk.subarray(off, off + n), this.used);
        this.used += n;
        off += n;
        if (this.used < BLOCK_BYTES) continue;
        const shipped = this.ship();
        if (shipped) return shipped.then(fill);
      }
    };
    return fill();
  }

  /** Ships what is left, then ends the stream; resolves with each channel's result, in channel order. */
  async end(): Promise<unknown[]> {
    this.closed = true;
    if (this.failure) throw this.failure;
    this.resultsLeft = this.channels.length;
    const result = new Promise<unknown[]>((resolve, reject) => (this.settle = { resolve, reject }));
    if (this.used) this.send();
    // A stream that shipped no block is opened by its end: it carries the fields then.
    for (const channel of this.channels) channel.send({ ...(this.started ? {} : this.fields), id: this.id, end: true });
    try {
      return await result;
    } finally {
      await this.release();
    }
  }

  /** Stops: waits until the worker holds none of this stream's blocks, then forgets the stream. */
  async abort(): Promise<void> {
    this.closed = true;
    if (this.started) for (const channel of this.channels) channel.send({ id: this.id, end: true, drop: true });
    await this.release();
  }

  private async release() {
    await this.waitUntil(() => this.out === 0).catch(() => {});
    for (const channel of this.channels) channel.listeners.delete(this.id);
    // Back to the pool only when no block is out (a failed worker may still hold one: drop it).
    if (this.memory && this.out === 0 && !this.failure && pool.length < POOL_MAX) pool.push(this.memory);
    this.memory = null;
  }
}

/** The worker side: runs `handler` per stream over the shared memory, in message order. */
export function serveBlocks<S>(handler: {
  open(fields: StreamFields): S;
  block(state: S, bytes: Uint8Array, pos: number): void;
  end(state: S): unknown;
  /** Releases what `open` took when a stream is dropped (the end of a failed upload). */
  drop?(state: S): void;
}): void {
  const streams = new Map<number, { state: S; memory: SharedArrayBuffer }>();
  const post = (msg: BlockReply) => (self as unknown as Worker).postMessage(msg);
  self.onmessage = (e: MessageEvent<BlockMessage>) => {
    const msg = e.data;
    if ('slot' in msg) {
      let s = streams.get(msg.id);
      try {
        // Inside the try: a failing open (a file that cannot be opened) fails this stream, not the worker.
        if (!s && msg.memory) streams.set(msg.id, (s = { state: handler.open(msg), memory: msg.memory }));
        if (!s) throw new Error('block for an unknown stream');
        handler.block(s.state, new Uint8Array(s.memory, msg.slot * BLOCK_BYTES, msg.len), msg.pos);
        post({ id: msg.id, slot: msg.slot });
      } catch (err) {
        post({ id: msg.id, slot: msg.slot, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
      }
      return;
    }
    const s = streams.get(msg.id);
    streams.delete(msg.id);
    if (msg.drop) {
      if (s) handler.drop?.(s.state);
      return;
    }
    try {
      post({ id: msg.id, result: s ? handler.end(s.state) : handler.end(handler.open(msg)) });
    } catch (err) {
      post({ id: msg.id, slot: -1, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
    }
  };
}
