/**
 * HEVC-coded HEIC (the photos phones take) decoded to RGBA pixels. sharp's prebuilt libvips reads
 * AVIF but has no HEVC decoder (libde265 is left out of it), so such a photo could be stored but
 * never shown smaller. libheif's WebAssembly build with libde265 (libheif-js, a library rather
 * than a decoder of our own) decodes it on the thread that calls it, for about a second per
 * 12 MP photo: so in a worker thread, one photo at a time (a decode holds 4 bytes per pixel).
 * A WebAssembly memory never shrinks, so the thread keeps its largest decode's size only while it
 * is busy: it ends after `IDLE_MS` without work.
 *
 * A decode's time runs from its call, its wait in line included, so a line behind a slow photo
 * cannot hold its callers (transform slots) past their own timeout; at most `MAX_WAITING` wait.
 */
export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  pixels: Uint8Array;
}

/** The photo itself could not be decoded (the decoder's words): the file's fault. */
export class HeicDecodeError extends Error {}
/** No decode now (too many waiting, out of time, or the thread failed): the server's state, not the file's. */
export class HeicUnavailableError extends Error {}

type Reply = { id: number; width: number; height: number; pixels: Uint8Array } | { id: number; error: string };
interface Waiting {
  resolve(d: DecodedImage): void;
  reject(e: Error): void;
}

const WORKER_URL = new URL('./heic-worker.ts', import.meta.url).href;
/** An idle thread ends, and its memory goes with it; the next photo starts another (about 0.5 s). */
const IDLE_MS = 10_000;
/** Decodes in line (the one running included) beyond which a caller is told to come back. */
const MAX_WAITING = 8;

let worker: Worker | null = null;
let idle: ReturnType<typeof setTimeout> | undefined;
let nextId = 1;
/** The decode the thread is working on, at most one. */
let running: { id: number; waiter: Waiting } | null = null;
/** The decodes queue behind each other: one at a time. */
let line: Promise<unknown> = Promise.resolve();
let inLine = 0;

function stopThread(): void {
  clearTimeout(idle);
  idle = undefined;
  worker?.terminate();
  worker = null;
}

/** Ends the thread and fails the decode it was working on (a timeout or a crash). */
function abandon(err: Error): void {
  const r = running;
  running = null;
  stopThread();
  r?.waiter.reject(err);
}

function thread(): Worker {
  clearTimeout(idle);
  idle = undefined;
  if (worker) return worker;
  const w = new Worker(WORKER_URL, { type: 'module' });
  w.onmessage = (e: MessageEvent<Reply>) => {
    // A thread ended since (a timeout) may still answer: not for the decode running now.
    if (w !== worker || !running || running.id !== e.data.id) return;
    const { waiter } = running;
    running = null;
    idle = setTimeout(stopThread, IDLE_MS);
    (idle as { unref?: () => void }).unref?.();
    if ('error' in e.data) waiter.reject(new HeicDecodeError(e.data.error));
    else waiter.resolve({ width: e.data.width, height: e.data.height, pixels: e.data.pixels });
  };
  w.onerror = (e) => {
    if (w === worker) abandon(new HeicUnavailableError(`the HEIC decoder failed: ${(e as ErrorEvent).message ?? 'unknown error'}`));
  };
  // An idle thread must not keep the process (or a test run) alive.
  (w as Worker & { unref?: () => void }).unref?.();
  worker = w;
  return w;
}

function decodeNow(input: Uint8Array, deadline: number): Promise<DecodedImage> {
  const left = deadline - Date.now();
  if (left <= 0) return Promise.reject(new HeicUnavailableError('the HEIC decode waited past its time for the photos before it'));
  const id = nextId++;
  return new Promise<DecodedImage>((resolve, reject) => {
    const timer = setTimeout(() => abandon(new HeicUnavailableError(`the HEIC decode took longer than its ${Math.round(left)} ms`)), left);
    running = {
      id,
      waiter: {
        resolve: (d) => (clearTimeout(timer), resolve(d)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      },
    };
    try {
      // A copy goes to the thread: the caller keeps its bytes (a cache may hold them).
      thread().postMessage({ id, input: input.slice() });
    } catch (err) {
      abandon(new HeicUnavailableError(`the HEIC decoder could not start: ${(err as Error).message}`));
    }
  });
}

let decodes = 0;
/** Decodes asked for since the process started (a photo's later readers should not add to it). */
export const heicDecodeCount = (): number => decodes;

/**
 * Decodes one HEVC-coded HEIC/HEIF image (its first top-level image, as libheif displays it:
 * rotation applied) within `timeoutMs` of this call. Rejects with `HeicDecodeError` for a photo
 * the decoder refuses, `HeicUnavailableError` when it cannot decode now.
 */
export function decodeHeic(input: Uint8Array, timeoutMs: number): Promise<DecodedImage> {
  if (inLine >= MAX_WAITING) return Promise.reject(new HeicUnavailableError(`${MAX_WAITING} HEIC photos are being decoded already`));
  const deadline = Date.now() + timeoutMs;
  inLine++;
  decodes++;
  const run = line.then(() => decodeNow(input, deadline)).finally(() => inLine--);
  line = run.catch(() => {});
  return run;
}
