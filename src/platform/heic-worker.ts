/**
 * The decoding thread of `heic.ts`: libheif's WebAssembly build (heic-decode), which decodes on
 * the thread that calls it, here instead of the request thread.
 */
import decode from 'heic-decode';

interface Job {
  id: number;
  input: Uint8Array;
}

// libheif prints what it cannot parse; the reason comes back with the error instead.
console.log = () => {};

const post = (msg: unknown, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

self.onmessage = async (e: MessageEvent<Job>) => {
  const { id, input } = e.data;
  try {
    const { width, height, data } = await decode({ buffer: input });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    post({ id, width, height, pixels }, [pixels.buffer]);
  } catch (err) {
    post({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
