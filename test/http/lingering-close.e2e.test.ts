/**
 * A client that asks to close the connection and sends its whole body before reading (Python's
 * urllib does both) gets the server's answer even when the server refused the body without
 * reading it all. Bun closed such a connection the moment the answer was written; the client's
 * remaining bytes met a TCP reset, which discarded the answer unread: "Broken pipe" instead of a
 * 413 or a 401 (src/platform/linger.ts). The client here writes everything, waits until the
 * kernel took the last byte, and only then reads, so the test does not depend on timing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server';

interface Outcome {
  status: number;
  error?: string;
  /** The socket failed before an answer could be read (the bug: EPIPE/ECONNRESET). */
  failure?: string;
}

/** Sends head + body with `Connection: close`, reading nothing until the body has been written. */
function sendAllThenRead(port: number, head: string[], body: Buffer, chunked = false): Promise<Outcome> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(o);
    };
    const parse = (): Outcome => {
      const text = got.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const error = /"error":"([A-Z_]+)"/.exec(text)?.[1];
      return { status, error };
    };
    const socket = connect(port, '127.0.0.1', () => {
      socket.pause();
      const lines = [...head, 'Host: 127.0.0.1', 'Connection: close', chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`];
      const payload = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
      socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]), (err) => {
        if (err) return finish({ status: 0, failure: err.message });
        socket.resume();
      });
    });
    socket.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const o = parse();
      if (o.status && o.error) finish(o);
    });
    socket.on('error', (err) => finish({ ...parse(), failure: err.message }));
    socket.on('close', () => finish(parse()));
  });
}

describe('Connection: close with a body the server does not read', () => {
  let srv: RunningServer;
  let key: string;
  // Both larger than the loopback socket buffers; `body` is under the upload limit, `big` over it.
  const body = Buffer.alloc(8 * 1024 * 1024, 0x41);
  const big = Buffer.alloc(24 * 1024 * 1024, 0x41);
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', MAX_UPLOAD_BYTES: '16MB' } });
    key = srv.bootstrap!.api_key;
  }, 120_000);
  afterAll(() => srv?.close());

  const upload = (credential: string, type = 'text/plain') => ['POST /api/files HTTP/1.1', `Authorization: Bearer ${credential}`, `Content-Type: ${type}`, 'X-File-Name: big.txt'];

  test('an upload refused by its declared length: the 413 arrives', async () => {
    const o = await sendAllThenRead(srv.port, upload(key), big);
    expect(o).toEqual({ status: 413, error: 'FILE_TOO_LARGE' });
  });

  test('an upload with a wrong API key: the 401 arrives', async () => {
    const o = await sendAllThenRead(srv.port, upload('pk_wrong'), body);
    expect(o).toEqual({ status: 401, error: 'UNAUTHORIZED' });
  });

  test('an upload without a length, stopped at the limit while streaming: the 413 arrives', async () => {
    const o = await sendAllThenRead(srv.port, upload(key), big, true);
    expect(o).toEqual({ status: 413, error: 'FILE_TOO_LARGE' });
  });

  test('an upload whose first bytes are not what it claims (refused after the first chunk): the 415 arrives', async () => {
    const o = await sendAllThenRead(srv.port, upload(key, 'image/png'), body, true);
    expect(o).toEqual({ status: 415, error: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  test('a JSON body over its limit on an API route: the 413 arrives', async () => {
    const head = ['POST /api/auth/login HTTP/1.1', 'Content-Type: application/json'];
    const o = await sendAllThenRead(srv.port, head, body);
    expect(o).toEqual({ status: 413, error: 'FILE_TOO_LARGE' });
  });

  test('the server still answers afterwards', async () => {
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });
});
