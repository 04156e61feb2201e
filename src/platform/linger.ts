/**
 * Lingering close on Bun (RFC 9112 §9.6, nginx's `lingering_close`). When a request says
 * `Connection: close`, Bun closes the socket as soon as the answer is written, even while the
 * client is still sending a body the app did not read (a refused upload, a wrong key). The
 * client's next bytes then meet a TCP reset, and the reset discards the answer the client had
 * not read yet: Python's urllib, which sends the whole body before reading, got "Broken pipe"
 * instead of a 413 or a 401. Bun reads the rest itself on a keep-alive connection, and Deno
 * always does, so only this case is handled. A GET's or HEAD's body cannot be: Bun never hands
 * it to the app (`request.body` is null).
 *
 * The app gets the body through a stream whose `cancel` does not reach the socket; before the
 * answer goes, what the app left is read and dropped, for at most LINGER_MS and while the client
 * keeps sending (it stops after LINGER_IDLE_MS of silence). Nothing is kept: memory stays at one
 * chunk.
 */

/** Longest time spent reading what the app left (nginx's `lingering_time` is 30 s). */
const LINGER_MS = 30_000;
/** Stop when the client has sent nothing for this long (nginx's `lingering_timeout` is 5 s). */
const LINGER_IDLE_MS = 5_000;

const bodyOf = Object.getOwnPropertyDescriptor(Request.prototype, 'body')?.get as ((this: Request) => ReadableStream<Uint8Array> | null) | undefined;

/** `Connection: close` among the request's connection options. */
function asksToClose(request: Request): boolean {
  const value = request.headers.get('connection');
  return value !== null && /(?:^|,)\s*close\s*(?:,|$)/i.test(value);
}

/**
 * For a request that asks to close and has a body: replaces its `body` with the stream described
 * above and returns what to run on the answer (drain, then hand the answer on). Null otherwise.
 */
export function lingerOnClose(request: Request): ((res: Response) => Promise<Response>) | null {
  if (!bodyOf || !asksToClose(request)) return null;
  const original = bodyOf.call(request);
  if (!original) return null;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let ended = false;
  // Made on first use: `request.json()` and friends read the original themselves, and a reader
  // taken early would lock it.
  let handed: ReadableStream<Uint8Array> | null = null;
  const handedBody = () =>
    (handed ??= new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          reader ??= original.getReader();
          const next = await reader.read();
          if (next.done) {
            ended = true;
            c.close();
          } else c.enqueue(next.value);
        },
        // Not passed on: the rest is read and dropped before the answer goes.
        cancel() {},
      },
      { highWaterMark: 0 },
    ));
  Object.defineProperty(request, 'body', { configurable: true, get: handedBody });
  return async (res) => {
    if (ended) return res;
    if (!reader) {
      if (original.locked || request.bodyUsed) return res; // read by the runtime itself (`text()`, `formData()`)
      reader = original.getReader();
    }
    await drain(reader);
    return res;
  };
}

/** Reads and drops until the body ends, the client goes quiet or LINGER_MS have passed. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const started = performance.now();
  let lastChunk = started;
  let stop: () => void = () => {};
  const stopped = new Promise<'stop'>((resolve) => (stop = () => resolve('stop')));
  // One coarse timer per drain rather than one per chunk.
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - lastChunk >= LINGER_IDLE_MS || now - started >= LINGER_MS) stop();
  }, 250);
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), stopped]);
      if (next === 'stop' || next.done) break;
      lastChunk = performance.now();
    }
  } catch {
    // The client went away: nothing left to protect.
  } finally {
    clearInterval(timer);
    void reader.cancel().catch(() => {});
  }
}
