/** For bench/micro.ts: answers every message with itself (transferring its buffer back, if any). */
self.onmessage = (e: MessageEvent<{ buf?: ArrayBuffer }>) => {
  (self as unknown as Worker).postMessage(e.data, e.data.buf ? [e.data.buf] : []);
};
