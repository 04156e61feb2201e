/**
 * Every file sink (threaded, Bun's FileSink and the portable double buffer) writes exactly the
 * bytes it was given and reports their SHA-256, whatever the chunk sizes (empty, tiny,
 * straddling and larger than the 1 MiB buffers), and leaves the descriptor open for the
 * caller's fsync.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileSink, createPortableFileSink, type FileSinkWriter } from './file-sink';
import type { FileHandle } from 'node:fs/promises';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'pictor-sink-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const sizes = [0, 1, 7, 65_536, 1_048_575, 1, 1_048_576, 3_000_000, 12, 0, 2_097_153];

const sinks: [string, (fh: FileHandle, path: string) => FileSinkWriter][] = [
  ['threaded', (fh) => createFileSink(fh, { openInWorker: false })],
  // Deno's way: the writing thread opens the path itself (the request thread's descriptor is not valid there).
  ['threaded, opened by the worker', (fh, path) => createFileSink(fh, { path, openInWorker: true })],
  ['runtime', (fh) => createFileSink(fh, { threaded: false })],
  ['portable', createPortableFileSink],
];
for (const [name, make] of sinks) {
  test(`${name} sink writes every byte in order and keeps the descriptor open`, async () => {
    const path = join(dir, name);
    const fh = await open(path, 'wx');
    const sink = make(fh, path);
    const hash = createHash('sha256');
    let total = 0;
    for (const n of sizes) {
      const chunk = new Uint8Array(randomBytes(n));
      hash.update(chunk);
      total += n;
      const pending = sink.write(chunk);
      if (pending) await pending;
      chunk.fill(0); // the caller may reuse its chunk once the write settled
    }
    const digest = await sink.end();
    await fh.sync(); // still ours
    await fh.close();
    const written = await readFile(path);
    expect(written.byteLength).toBe(total);
    const expected = hash.digest('hex');
    expect(createHash('sha256').update(written).digest('hex')).toBe(expected);
    expect(digest).toBe(expected); // the digest of what was written, however it was chunked
  });
}

test('threaded sink: a failed write rejects, and abort returns once no block is out', async () => {
  const path = join(dir, 'readonly');
  await (await open(path, 'wx')).close();
  const fh = await open(path, 'r'); // writes to it fail with EBADF on the worker thread
  const sink = createFileSink(fh, { openInWorker: false });
  const chunk = new Uint8Array(256 * 1024);
  let failure: unknown;
  try {
    for (let i = 0; i < 40; i++) {
      const pending = sink.write(chunk); // 10 MiB: more blocks than may be out at once
      if (pending) await pending;
    }
    await sink.end();
  } catch (err) {
    failure = err;
  }
  expect(String(failure)).toMatch(/EBADF|bad file/i);
  await sink.abort();
  await fh.close();
  expect((await readFile(path)).byteLength).toBe(0);
});

test('threaded sink opened by the worker: a path it cannot open rejects, and the worker serves the next file', async () => {
  const path = join(dir, 'vanished');
  const fh = await open(path, 'wx');
  await rm(path); // the worker's open('r+') fails: ENOENT
  const sink = createFileSink(fh, { path, openInWorker: true });
  let failure: unknown;
  try {
    for (let i = 0; i < 12; i++) {
      const pending = sink.write(new Uint8Array(256 * 1024));
      if (pending) await pending;
    }
    await sink.end();
  } catch (err) {
    failure = err;
  }
  expect(String(failure)).toMatch(/ENOENT|no such file/i);
  await sink.abort();
  await fh.close();
  // The failed open failed that stream only: the same worker still writes another file.
  const next = join(dir, 'after-vanished');
  const fh2 = await open(next, 'wx');
  const sink2 = createFileSink(fh2, { path: next, openInWorker: true });
  const bytes = new Uint8Array(randomBytes(3_000_000));
  const pending = sink2.write(bytes);
  if (pending) await pending;
  expect(await sink2.end()).toBe(createHash('sha256').update(bytes).digest('hex'));
  await fh2.close();
  expect((await readFile(next)).equals(bytes)).toBe(true);
});
