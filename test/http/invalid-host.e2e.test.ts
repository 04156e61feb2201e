/**
 * A Host header that is no valid authority (found by the fuzz test, issue #17): Bun passes such
 * a request on with a bare path as its URL, and the router and the limiter cut it in different
 * places — `POST /api/auth/verify-email` with `Host: évil` was served by the `/verify-email`
 * page. It is refused with 400 in the error envelope, whatever the path; valid hosts, short
 * ones included, are served as before.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { sendRaw } from '../helpers/fuzz/wire';
import { startServer, type RunningServer } from '../helpers/server';

// UTF-8 bytes of "évil" as sent on the wire.
const NON_ASCII = Buffer.from('évil', 'utf8').toString('latin1');

describe('Host that is not a valid authority', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => srv?.close());

  test.each([
    ['POST', '/api/auth/verify-email', '{"token":"abc"}'],
    ['GET', '/api/profile', undefined],
    ['GET', '/health', undefined],
  ])('%s %s → 400 VALIDATION_ERROR naming Host', async (method, target, body) => {
    const res = await sendRaw(srv.port, {
      method, target,
      headers: [['Host', NON_ASCII], ['Content-Type', 'application/json'], ['Authorization', `Bearer ${srv.bootstrap!.api_key}`]],
      body: body === undefined ? undefined : Buffer.from(body),
    }, 30_000);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toStartWith('application/json');
    const json = JSON.parse(res.body.toString()) as { error: string; details: { fields: { path: string }[] } };
    expect(json.error).toBe('VALIDATION_ERROR');
    expect(json.details.fields[0]!.path).toBe('/Host');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  test('a short valid Host is still served', async () => {
    const res = await sendRaw(srv.port, { method: 'GET', target: '/api/profile', headers: [['Host', 'x'], ['Authorization', `Bearer ${srv.bootstrap!.api_key}`]] }, 30_000);
    expect(res.status).toBe(200);
  });

  test('HTTP/1.0 without a Host (a health check: HAProxy\'s httpchk) is served; it was a 400 naming Host', async () => {
    const answer = async (path: string): Promise<string> => {
      const chunks: Uint8Array[] = [];
      await new Promise<void>((resolve, reject) => {
        const socket = connect(srv.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.0\r\nAuthorization: Bearer ${srv.bootstrap!.api_key}\r\n\r\n`));
        socket.on('data', (d: Buffer) => chunks.push(d));
        socket.on('end', () => resolve());
        socket.on('error', reject);
      });
      return Buffer.concat(chunks).toString();
    };
    const health = await answer('/health');
    expect(health.split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(health).toContain('"status":"ok"');
    // An authenticated call under its real route (a bare path was cut at the wrong place).
    expect((await answer('/api/profile')).split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 200 /);
  });
});
