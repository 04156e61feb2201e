/**
 * The stall bound on a streamed request body, against real sockets: a peer that stops taking the
 * body (a partitioned or frozen S3 once the sockets' buffers are full) fails the request after the
 * timeout; an uploading client that is slow to give the bytes does not.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { createServer, type Socket } from 'node:net';
import type { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { PacedBody, s3RequestHandler } from './s3-http';

type Request = Parameters<FetchHttpHandler['handle']>[0];

const stops: (() => void)[] = [];
afterAll(() => stops.forEach((stop) => stop()));

/** A TCP peer that accepts and never reads. */
async function stalledPeer(): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s.pause()));
  stops.push(() => (sockets.forEach((s) => s.destroy()), server.close()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** An HTTP peer that reads the whole body, then answers 200. */
function readingPeer(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (req) => (await req.arrayBuffer(), new Response(null)) });
  stops.push(() => void server.stop(true));
  return server.port as number;
}

const put = (port: number, body: PacedBody, size: number) =>
  ({ protocol: 'http:', hostname: '127.0.0.1', port, method: 'PUT', path: '/part', query: {}, headers: { 'content-length': String(size) }, body }) as unknown as Request;

describe.if(typeof Bun !== 'undefined')('S3 requests with a streamed body (Bun)', () => {
  test('a peer that stops taking the body fails the request with a TimeoutError (it waited without end)', async () => {
    const size = 64 * 1024 * 1024; // far more than the sockets' buffers hold
    const body = new PacedBody();
    const handler = s3RequestHandler(300) as FetchHttpHandler;
    const sent = handler.handle(put(await stalledPeer(), body, size));
    for (let at = 0; at < size; at += 1024 * 1024) body.push(new Uint8Array(1024 * 1024));
    body.push(null);
    const err = await sent.then(() => null, (e: unknown) => e as Error);
    expect(err?.name).toBe('TimeoutError');
    expect(err?.message).toContain('took no byte of the request body'); // the watcher's, not the answer's timer
  }, 30_000);

  test('a body whose producer is slower than the timeout is sent whole', async () => {
    const size = 2 * 1024 * 1024;
    const body = new PacedBody();
    const handler = s3RequestHandler(200) as FetchHttpHandler;
    const sent = handler.handle(put(readingPeer(), body, size));
    body.push(new Uint8Array(size / 2));
    // Nothing waits to be sent for several timeouts: the client is slow, not the storage.
    await until(() => body.taken === size / 2);
    await Bun.sleep(1000);
    body.push(new Uint8Array(size / 2));
    body.push(null);
    const { response } = await sent;
    expect([response.statusCode, body.taken]).toEqual([200, size]);
  }, 30_000);
});

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await Bun.sleep(10);
}
