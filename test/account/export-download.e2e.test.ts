/**
 * The single-use export link is spent by delivery, not by asking (over real HTTP, a real server
 * child with PGlite): a HEAD, a range short of the end and a download cut off by the client all
 * leave it usable; a response that sends the last byte (a full GET, or a resumed range to the end)
 * spends it and removes the archive. The archive (~24 MiB) is larger than what the loopback
 * socket buffers hold, so a client that hangs up early really stops the transfer.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { startServer, type RunningServer } from '../helpers/server';
import { until } from '../helpers/until';

let server: RunningServer;
let auth: Record<string, string>;
beforeAll(async () => {
  server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  auth = { authorization: `Bearer ${server.bootstrap!.api_key}` };
  // Three 8 MiB text files (stored entries: the ZIP is as large as the originals).
  for (let i = 0; i < 3; i++) {
    const body = `text file ${i}\n${randomBytes(6 * 1024 * 1024).toString('base64')}`.slice(0, 8 * 1024 * 1024);
    const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain', 'x-file-name': `big${i}.txt` }, body });
    expect(res.status).toBe(201);
  }
}, 120_000);
afterAll(() => server?.close());

interface ExportJson { id: string; status: string; size: number; download_url: string | null }

/** A fresh export of the account, once ready: its status and its link on this server. */
async function readyExport(): Promise<{ e: ExportJson; url: string; path: string }> {
  const started = await fetch(`${server.url}/api/account/export`, { method: 'POST', headers: auth });
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as ExportJson;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const e = (await (await fetch(`${server.url}/api/account/exports/${id}`, { headers: auth })).json()) as ExportJson;
    expect(e.status).not.toBe('failed');
    if (e.status === 'ready') {
      const link = new URL(e.download_url!);
      return { e, url: `${server.url}${link.pathname}${link.search}`, path: `${link.pathname}${link.search}` };
    }
    if (Date.now() > deadline) throw new Error('export not ready in time');
    await Bun.sleep(50);
  }
}

/** A GET whose client reads `bytes` bytes of the body and then hangs up; resolves with the body bytes it read. */
function abortedGet(path: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    let received = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      received = Buffer.concat([received, c]);
      const bodyStart = received.indexOf('\r\n\r\n');
      const body = bodyStart < 0 ? 0 : received.length - bodyStart - 4;
      // Destroying with unread data in the receive buffer resets the connection.
      if (body >= bytes) {
        socket.destroy();
        resolve(body);
      }
    });
    socket.on('error', reject);
  });
}

test('HEAD, a short range and a cut-off download leave the link usable; the full GET spends it', async () => {
  const { e, url, path } = await readyExport();
  expect(e.size).toBeGreaterThan(24 * 1024 * 1024);

  const head = await fetch(url, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect([head.headers.get('content-length'), head.headers.get('accept-ranges')]).toEqual([String(e.size), 'bytes']);

  const first = await fetch(url, { headers: { range: 'bytes=0-99' } });
  expect(first.status).toBe(206);
  expect(first.headers.get('content-range')).toBe(`bytes 0-99/${e.size}`);
  const prefix = new Uint8Array(await first.arrayBuffer());
  expect(prefix.byteLength).toBe(100);

  // Cut off after ~300 bytes of the body, then after 2 MiB: still ready each time.
  for (const bytes of [300, 2 * 1024 * 1024]) {
    expect(await abortedGet(path, bytes)).toBeGreaterThanOrEqual(bytes);
    await Bun.sleep(300);
    expect(((await (await fetch(`${server.url}/api/account/exports/${e.id}`, { headers: auth })).json()) as ExportJson).status).toBe('ready');
  }

  const full = await fetch(url);
  expect(full.status).toBe(200);
  const zipBytes = new Uint8Array(await full.arrayBuffer());
  expect(zipBytes.byteLength).toBe(e.size);
  expect(zipBytes.subarray(0, 100)).toEqual(prefix);
  // The manifest names file metadata as the API does.
  const manifest = JSON.parse(new TextDecoder().decode(unzipSync(zipBytes, { filter: (f) => f.name === 'manifest.json' })['manifest.json'])) as {
    files: Record<string, unknown>[];
  };
  expect(manifest.files).toHaveLength(3);
  for (const f of manifest.files) expect(['custom_metadata' in f, 'custom_meta' in f]).toEqual([true, false]);

  expect((await fetch(url)).status).toBe(410);
  expect((await fetch(url, { method: 'HEAD' })).status).toBe(410);
  const after = (await (await fetch(`${server.url}/api/account/exports/${e.id}`, { headers: auth })).json()) as ExportJson;
  expect([after.status, after.download_url]).toEqual(['downloaded', null]);
  // Removed after the answer (export-download.ts does not hold the response for it).
  await until('the downloaded archive to be removed', async () => ((await noArchiveOf(e.id)) ? true : null));
}, 120_000);

test('a download resumed with Range to the end spends the link; an unsatisfiable range is 416', async () => {
  const { e, url } = await readyExport();
  expect((await fetch(url, { headers: { range: `bytes=${e.size}-` } })).status).toBe(416);
  const start = 1_000_000;
  const head = new Uint8Array(await (await fetch(url, { headers: { range: `bytes=0-${start - 1}` } })).arrayBuffer());
  const rest = await fetch(url, { headers: { range: `bytes=${start}-`, 'if-range': (await fetch(url, { method: 'HEAD' })).headers.get('etag')! } });
  expect(rest.status).toBe(206);
  expect(rest.headers.get('content-range')).toBe(`bytes ${start}-${e.size - 1}/${e.size}`);
  const tail = new Uint8Array(await rest.arrayBuffer());
  const whole = new Uint8Array(head.byteLength + tail.byteLength);
  whole.set(head);
  whole.set(tail, head.byteLength);
  expect(whole.byteLength).toBe(e.size);
  expect(Object.keys(unzipSync(whole)).sort()).toContain('manifest.json');
  expect((await fetch(url, { headers: { range: 'bytes=0-99' } })).status).toBe(410);
}, 120_000);

/** True once no object of the export is stored (the fs driver keeps `exports/<user>/<id>.zip`). */
async function noArchiveOf(id: string): Promise<boolean> {
  const glob = new Bun.Glob(`**/${id}.zip`);
  for await (const _ of glob.scan({ cwd: join(server.dataDir, 'files'), onlyFiles: true })) return false;
  return true;
}
