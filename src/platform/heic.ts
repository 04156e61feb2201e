/**
 * HEVC-coded HEIC (the photos phones take) decoded to RGBA pixels. sharp's prebuilt libvips reads
 * AVIF but has no HEVC decoder (libde265 is left out of it), so such a photo could be stored but
 * never shown smaller. libheif's WebAssembly build with libde265 (heic-decode, a library rather
 * than a decoder of our own) decodes it, on the thread that calls it, for about a second per
 * 12 MP photo: so in a worker thread, one photo at a time (a decode holds 4 bytes per pixel). A
 * WebAssembly memory never shrinks, so the thread keeps its largest decode's size only while it
 * is busy: it ends after `IDLE_MS` without work (and after a decode past `timeoutMs`).
 */
export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  pixels: Uint8Array;
}

/** A decode that ran past its time (the thread was ended); other failures are the file's. */
export class HeicTimeoutError extends Error {}

type Reply = { id: number; width: number; height: number; pixels: Uint8Array } | { id: number; error: string };

const WORKER_URL = new URL('./heic-worker.ts', import.meta.url).href;
/** An idle thread ends, and its memory goes with it; the next photo starts another (about 0.5 s). */
const IDLE_MS = 10_000;
let worker: Worker | null = null;
let idle: ReturnType<typeof setTimeout> | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve(d: DecodedImage): void; reject(e: Error): void }>();
/** The decodes queue behind each other: one at a time. */
let queue: Promise<unknown> = Promise.resolve();

function stop(): void {
  clearTimeout(idle);
  worker?.terminate();
  worker = null;
}

function failAll(err: Error): void {
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
  stop();
}

function thread(): Worker {
  clearTimeout(idle);
  if (worker) return worker;
  const w = new Worker(WORKER_URL, { type: 'module' });
  w.onmessage = (e: MessageEvent<Reply>) => {
    const pending = waiting.get(e.data.id);
    waiting.delete(e.data.id);
    if (waiting.size === 0) {
      idle = setTimeout(stop, IDLE_MS);
      (idle as { unref?: () => void }).unref?.();
    }
    if ('error' in e.data) pending?.reject(new Error(e.data.error));
    else pending?.resolve({ width: e.data.width, height: e.data.height, pixels: e.data.pixels });
  };
  w.onerror = (e) => failAll(new Error(`the HEIC decoder failed: ${(e as ErrorEvent).message ?? 'unknown error'}`));
  // An idle thread must not keep the process (or a test run) alive.
  (w as Worker & { unref?: () => void }).unref?.();
  worker = w;
  return w;
}

function decodeNow(input: Uint8Array, timeoutMs: number): Promise<DecodedImage> {
  const id = nextId++;
  return new Promise<DecodedImage>((resolve, reject) => {
    const timer = setTimeout(() => failAll(new HeicTimeoutError(`the HEIC decode took longer than ${timeoutMs} ms`)), timeoutMs);
    waiting.set(id, {
      resolve: (d) => (clearTimeout(timer), resolve(d)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    });
    // A copy goes to the thread: the caller keeps its bytes (a cache may hold them).
    thread().postMessage({ id, input: input.slice() });
  });
}

/** Decodes one HEVC-coded HEIC/HEIF image (its primary image, as libheif displays it: rotation applied). */
export function decodeHeic(input: Uint8Array, timeoutMs: number): Promise<DecodedImage> {
  const run = queue.then(() => decodeNow(input, timeoutMs));
  queue = run.catch(() => {});
  return run;
}
