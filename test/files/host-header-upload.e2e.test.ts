/**
 * A raw upload whose `Host` is not a valid URL authority (found by the fuzz test, issue #17):
 * the upload read its query with `new URL(request.url)`, which throws on such a host, and
 * answered 500. The upload is served like any other, its `?transformations=` still read.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { sendRaw } from '../helpers/fuzz/wire';
import { startServer, type RunningServer } from '../helpers/server';

describe('raw upload with an unparseable Host', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => srv?.close());

  test.each(['localhost:99999', 'x:abc', '[::1'])('Host: %s → 201, eager transformations read from the query', async (host) => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#225588' } }).png().toBuffer();
    const res = await sendRaw(srv.port, {
      method: 'POST',
      target: '/api/files?transformations=w_20,f_webp',
      headers: [['Host', host], ['Authorization', `Bearer ${srv.bootstrap!.api_key}`], ['Content-Type', 'image/png']],
      body: png,
    }, 30_000);
    expect(res.status).toBe(201);
    // An invalid eager transformation in the same query is still refused (the query is read).
    const bad = await sendRaw(srv.port, {
      method: 'POST',
      target: '/api/files?transformations=w_nope',
      headers: [['Host', host], ['Authorization', `Bearer ${srv.bootstrap!.api_key}`], ['Content-Type', 'image/png']],
      body: png,
    }, 30_000);
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body.toString()) as { error: string }).error).toBe('INVALID_TRANSFORMATION');
  });
});
