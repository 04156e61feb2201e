/**
 * The SHA-256 of a tus upload, hashed as its bytes arrive over several requests (and processes):
 * hash-wasm, whose state can be saved to the upload's row and loaded by the next request.
 * hash-wasm is ~3× slower than node:crypto (which cannot save its state), so it runs on a thread
 * of its own, fed 1 MiB blocks, while the request thread receives and stores; at most
 * `MAX_IN_FLIGHT` blocks wait for it (backpressure, bounded memory). Inline where workers cannot run.
 */
import { createSHA256 } from 'hash-wasm';

const BLOCK = 1024 * 1024;
const MAX_IN_FLIGHT = 4;

export interface ResumableHasher {
  /** Takes a chunk (copied before it returns or its promise settles). */
  update(chunk: Uint8Array): void | Promise<void>;
  /** The state after every byte given (and the hex digest when asked); the hasher is done. */
  finish(digest: boolean): Promise<{ state: Uint8Array; hex: string | null }>;
  /** Forgets it. */
  abort(): void;
}

type Reply = { id: number; ack?: true; state?: Uint8Array; hex?: string | null; error?: string };
interface Waiter {
  ack(): void;
  end(r: Reply): void;
}

let worker: Worker | null | undefined;
const waiters = new Map<number, Waiter>();
let nextId = 1;

function hashWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./hash-worker.ts', import.meta.url).href, { type: 'module' });
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const w = waiters.get(e.data.id);
      if (e.data.ack) w?.ack();
      else w?.end(e.data);
    };
    worker.onerror = () => {
      for (const w of waiters.values()) w.end({ id: 0, error: 'tus hash worker failed' });
      waiters.clear();
      worker = null;
    };
    (worker as Worker & { unref?: () => void }).unref?.();
  } catch {
    worker = null;
  }
  return worker;
}

export async function resumableHasher(state: Uint8Array | null): Promise<ResumableHasher> {
  const w = hashWorker();
  if (!w) {
    const h = await createSHA256();
    if (state) h.load(state);
    else h.init();
    return {
      update: (chunk) => void h.update(chunk),
      finish: async (digest) => ({ state: h.save(), hex: digest ? h.digest('hex') : null }),
      abort: () => {},
    };
  }
  const id = nextId++;
  let block = new Uint8Array(BLOCK);
  let used = 0;
  let inFlight = 0;
  let resume: (() => void) | null = null;
  let ended: ((r: Reply) => void) | null = null;
  waiters.set(id, {
    ack: () => {
      inFlight--;
      resume?.();
      resume = null;
    },
    end: (r) => ended?.(r),
  });
  w.postMessage({ op: 'start', id, state });
  const flush = () => {
    if (used === 0) return;
    const full = used === BLOCK ? block : block.slice(0, used);
    w.postMessage({ op: 'update', id, block: full }, [full.buffer as ArrayBuffer]);
    inFlight++;
    block = new Uint8Array(BLOCK);
    used = 0;
  };
  return {
    async update(chunk) {
      let at = 0;
      while (at < chunk.byteLength) {
        const n = Math.min(chunk.byteLength - at, BLOCK - used);
        block.set(chunk.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === BLOCK) {
          flush();
          while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (resume = r));
        }
      }
    },
    finish(digest) {
      flush();
      return new Promise((resolve, reject) => {
        ended = (r) => {
          waiters.delete(id);
          if (r.error || !r.state) reject(new Error(r.error ?? 'no hash state'));
          else resolve({ state: r.state, hex: r.hex ?? null });
        };
        w.postMessage({ op: 'end', id, digest });
      });
    },
    abort() {
      waiters.delete(id);
      w.postMessage({ op: 'drop', id });
    },
  };
}
