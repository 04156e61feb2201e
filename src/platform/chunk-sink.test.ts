/**
 * The chunk sink of resumable (tus) uploads: each chunk is written at the upload's offset and
 * continues the upload's running SHA-256 from that offset, across streams, off-thread and on the
 * calling thread alike. A chunk that is not accepted leaves the state at its start usable; a
 * chunk at an offset this thread holds no state for hashes nothing and says so (null).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChunkSink } from './file-sink';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'pictor-chunks-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function sendChunk(key: string, path: string, base: number, data: Uint8Array, threaded: boolean, pieces = 3): Promise<string | null> {
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT);
  try {
    const sink = createChunkSink({ hashKey: key, base, file: { fh, path }, threaded });
    const step = Math.ceil(data.byteLength / pieces) || 1;
    for (let at = 0; at < data.byteLength; at += step) {
      const copied = sink.write(data.subarray(at, at + step));
      if (copied) await copied;
    }
    return await sink.end();
  } finally {
    await fh.close();
  }
}

for (const threaded of [true, false]) {
  test(`${threaded ? 'threaded' : 'inline'}: chunks continue the hash from their offset; a retried chunk starts from the kept state`, async () => {
    const key = `upload-${threaded}`;
    const path = join(dir, key);
    const parts = [randomBytes(1_500_000), randomBytes(7), randomBytes(2_097_152 + 3), randomBytes(0)].map((b) => new Uint8Array(b));
    const whole = createHash('sha256');
    let offset = 0;
    for (const [i, part] of parts.entries()) {
      if (i === 1) {
        // A chunk sent and then not accepted (checksum mismatch): its retry must hash from the same state.
        await sendChunk(key, path, offset, new Uint8Array(randomBytes(5000)), threaded);
      }
      whole.update(part);
      const digest = await sendChunk(key, path, offset, part, threaded);
      offset += part.byteLength;
      expect(digest).toBe(whole.copy().digest('hex'));
    }
    const file = await readFile(path);
    expect(file.byteLength).toBeGreaterThanOrEqual(offset);
    expect(createHash('sha256').update(file.subarray(0, offset)).digest('hex')).toBe(whole.digest('hex'));
  });

  test(`${threaded ? 'threaded' : 'inline'}: an offset with no kept state hashes nothing (null) but still writes`, async () => {
    const path = join(dir, `unknown-${threaded}`);
    const data = new Uint8Array(randomBytes(1_100_000));
    expect(await sendChunk(`never-seen-${threaded}`, path, 4096, data, threaded)).toBeNull();
    expect((await readFile(path)).subarray(4096).equals(data)).toBe(true);
  });
}
