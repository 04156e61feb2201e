/**
 * The tus SHA-256 thread (see hash.ts): one hash-wasm hasher per upload being received, fed
 * blocks, answering its saved state (and digest) at the end of a request. Messages of one
 * upload are handled in order (creating a hasher is async).
 */
import { createSHA256, type IHasher } from 'hash-wasm';

type Msg =
  | { op: 'start'; id: number; state: Uint8Array | null }
  | { op: 'update'; id: number; block: Uint8Array }
  | { op: 'end'; id: number; digest: boolean }
  | { op: 'drop'; id: number };

const hashers = new Map<number, IHasher>();
let queue: Promise<void> = Promise.resolve();

async function handle(m: Msg): Promise<void> {
  try {
    if (m.op === 'start') {
      const h = await createSHA256();
      if (m.state) h.load(m.state);
      else h.init();
      hashers.set(m.id, h);
    } else if (m.op === 'update') {
      hashers.get(m.id)?.update(m.block);
      postMessage({ id: m.id, ack: true });
    } else if (m.op === 'end') {
      const h = hashers.get(m.id);
      hashers.delete(m.id);
      if (!h) throw new Error(`no hasher ${m.id}`);
      const state = h.save();
      postMessage({ id: m.id, state, hex: m.digest ? h.digest('hex') : null });
    } else hashers.delete(m.id);
  } catch (err) {
    postMessage({ id: m.id, error: (err as Error).message });
  }
}

self.onmessage = (e: MessageEvent<Msg>) => {
  queue = queue.then(() => handle(e.data));
};
