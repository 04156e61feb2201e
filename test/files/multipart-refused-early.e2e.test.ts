/**
 * A multipart upload refused early (an unknown field) whose later part header is malformed
 * (found by the fuzz test, issue #17): the parser, already stopped, still emitted its parse
 * error with nobody listening, and the process crashed — one request took the server down.
 * Each such body is a 400 and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sendRaw } from '../helpers/fuzz/wire';
import { startServer, type RunningServer } from '../helpers/server';

const B = 'fuzzB0undary';
const part = (disposition: string, value: string) => `--${B}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n`;
const BODIES: Record<string, string> = {
  'unknown field, then NUL in a part header': part('name="bogus"', 'v') + part('name="file"; filename="a.png"\u0000', 'xx') + `--${B}--\r\n`,
  'unknown field, then a bare CR in a part header': part('name="bogus"', 'v') + part('name="x"\r\nX-Injected: 1\r', 'xx') + `--${B}--\r\n`,
};

describe('multipart refused early with a malformed later part', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => srv?.close());

  test.each(Object.keys(BODIES))('%s: 400, and the server still answers', async (name) => {
    const res = await sendRaw(srv.port, {
      method: 'POST',
      target: '/api/files',
      headers: [['Host', '127.0.0.1'], ['Authorization', `Bearer ${srv.bootstrap!.api_key}`], ['Content-Type', `multipart/form-data; boundary=${B}`]],
      body: Buffer.from(BODIES[name]!, 'latin1'),
    }, 30_000);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body.toString()) as { error: string }).error).toBe('VALIDATION_ERROR');
    // The crash came just after the answer: a later request shows whether the process lives.
    const health = await fetch(`${srv.url}/health`).then((r) => r.status, () => 0);
    expect(health).toBe(200);
    expect(srv.proc.exitCode).toBeNull();
  });
});
