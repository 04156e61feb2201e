/**
 * One HTTP/1.1 request written by hand on a TCP socket, for headers `fetch` rewrites or refuses
 * (`Host: x`, as sent inside a compose network). The answer is read until the server closes.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: string;
}

export function rawRequest(
  port: number,
  opts: { method?: string; path: string; host: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const lines = [`${opts.method ?? 'GET'} ${opts.path} HTTP/1.1`, `Host: ${opts.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  if (opts.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(opts.body)}`);
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed socket may count as an aborted request (Bun then drops the
    // answer of a handler still awaiting); `Connection: close` makes the server close it.
    const socket = connect(port, '127.0.0.1', () => socket.write(head + (opts.body ?? '')));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parse(Buffer.concat(chunks)));
      } catch (err) {
        reject(new Error(`${opts.method ?? 'GET'} ${opts.path} (Host: ${opts.host}): ${(err as Error).message}`));
      }
    });
  });
}

function parse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP response head in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = data.indexOf('\r\n', at);
    if (nl < 0) break;
    const size = parseInt(data.subarray(at, nl).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
