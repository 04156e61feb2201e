/**
 * One HTTP/1.1 request written byte for byte on a TCP socket, for the fuzz test: paths with
 * raw NUL or UTF-8 bytes, any `Host`, a `Content-Length` that disagrees with the body — all
 * things `fetch` rewrites or refuses. The answer is read until its body is complete (by
 * `Content-Length` or the last chunk), only its head for an event stream, or until the server
 * closes; a request the server never answers resolves with status 0 after `timeoutMs`.
 */
import { connect } from 'node:net';

export interface WireRequest {
  method: string;
  /** The request target exactly as sent (may hold bytes `fetch` would encode). */
  target: string;
  headers: [string, string][];
  body?: Uint8Array;
  /** Sent instead of the body's true length (a mismatch on purpose). */
  contentLength?: number;
}

export interface WireResponse {
  /** 0 when the server closed or stayed silent without answering. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Why there is no answer (status 0). */
  failure?: string;
}

const CRLF = Buffer.from('\r\n\r\n');

export function sendRaw(port: number, req: WireRequest, timeoutMs: number): Promise<WireResponse> {
  // Bun hides a GET's or HEAD's body from the app (`request.body` is null), so nothing can read
  // it before the answer; with `Connection: close` the unread bytes would reset the connection
  // and could discard the answer (src/platform/linger.ts). On keep-alive Bun reads them itself.
  const bodyless = (req.method === 'GET' || req.method === 'HEAD') && (req.body?.length ?? 0) > 0;
  const lines = [`${req.method} ${req.target} HTTP/1.1`, ...(bodyless ? [] : ['Connection: close'])];
  for (const [k, v] of req.headers) lines.push(`${k}: ${v}`);
  const length = req.contentLength ?? req.body?.length;
  if (length !== undefined && !req.headers.some(([k]) => k.toLowerCase() === 'content-length')) lines.push(`Content-Length: ${length}`);
  // latin1 keeps every byte we wrote into the strings (UTF-8 was applied by the caller).
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (res: WireResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(res);
    };
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(req.body ? Buffer.concat([head, req.body]) : head);
    });
    const timer = setTimeout(() => finish({ ...tryParse(Buffer.concat(chunks), true), failure: `no complete answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const parsed = tryParse(Buffer.concat(chunks), false, req.method === 'HEAD');
      if (parsed.status) finish(parsed);
    });
    // A reset after the answer was read is normal with Connection: close.
    socket.on('error', (err) => finish({ ...tryParse(Buffer.concat(chunks), true), failure: err.message }));
    socket.on('close', () => finish(tryParse(Buffer.concat(chunks), true)));
  });
}

/** Parses what has arrived; status 0 until the answer is complete (or `final`, when whatever came is all there is). */
function tryParse(raw: Buffer, final: boolean, head = false): WireResponse {
  const end = raw.indexOf(CRLF);
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0), failure: final ? 'closed without an answer' : undefined };
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = raw.subarray(end + 4);
  const bodiless = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (headers['content-type']?.startsWith('text/event-stream') || bodiless) return { status, headers, body: Buffer.alloc(0) };
  if (headers['transfer-encoding']?.includes('chunked')) {
    const chunked = dechunk(body);
    if (!chunked && !final) return { status: 0, headers: {}, body: Buffer.alloc(0) };
    return { status, headers, body: chunked ?? body };
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length !== undefined && body.length < length && !final) return { status: 0, headers: {}, body: Buffer.alloc(0) };
  if (length === undefined && !final) return { status: 0, headers: {}, body: Buffer.alloc(0) };
  if (length !== undefined) body = body.subarray(0, length);
  return { status, headers, body };
}

/** The body of a complete chunked message, or null while its last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = data.indexOf('\r\n', at);
    if (nl < 0) return null;
    const size = parseInt(data.subarray(at, nl).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < nl + 2 + size + 2) return null;
    parts.push(data.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
}
