/**
 * The runtime's own body cap admits every request a route takes: a multipart upload of several
 * files each under the per-file limit, larger in all than one file's limit, was refused by Bun
 * itself with a bare 413 (no envelope, no request id) before the app saw it.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../helpers/server';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer({ env: { MAX_UPLOAD_BYTES: '1MiB', PROMOTED_MAX_UPLOAD_BYTES: '1MiB', DISABLE_RATE_LIMIT: 'true' } });
}, 120_000);
afterAll(() => srv?.close());

const text = (n: number) => Buffer.from(randomBytes(n / 2).toString('hex'));

test('three files of 900 KB in one multipart request (2.7 MB, over one file\'s 1 MiB) are stored', async () => {
  const form = new FormData();
  for (let i = 0; i < 3; i++) form.append('file', new File([new Uint8Array(text(900_000))], `part-${i}.txt`, { type: 'text/plain' }));
  const res = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': srv.bootstrap!.api_key }, body: form });
  expect(res.status).toBe(201);
  expect(((await res.json()) as { results: { size: number }[] }).results.map((f) => f.size)).toEqual([900_000, 900_000, 900_000]);
});

test('a body over what any request may carry is still refused in the envelope, with its request id', async () => {
  const res = await fetch(`${srv.url}/api/files`, {
    method: 'POST', headers: { 'x-api-key': srv.bootstrap!.api_key, 'content-type': 'text/plain' }, body: new Uint8Array(text(1_200_000)),
  });
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: string }).error).toBe('FILE_TOO_LARGE');
  expect(res.headers.get('x-request-id')).toBeTruthy();
});
