import { describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { BLOCK_BYTES } from './block-worker';
import { createStreamHasher } from './sha256';

/** Feeds `data` in chunks of the given sizes (cycled), honouring the hasher's backpressure. */
async function hashInChunks(data: Uint8Array, sizes: number[]): Promise<string> {
  const h = createStreamHasher();
  let off = 0;
  for (let i = 0; off < data.byteLength; i++) {
    const n = sizes[i % sizes.length] as number;
    const chunk = Uint8Array.from(data.subarray(off, off + n)); // a copy (Buffer#slice is a view)
    const wait = h.update(chunk);
    if (wait) await wait;
    chunk.fill(0); // the hasher must have copied what it needs by now
    off += n;
  }
  return h.digest();
}

describe('streaming sha256 (worker for big streams, inline for small)', () => {
  const cases: [string, number, number[]][] = [
    ['empty', 0, [1]],
    ['small, one chunk (inline)', 200_000, [200_000]],
    ['exactly one block', BLOCK_BYTES, [65_536]],
    ['one block and a byte', BLOCK_BYTES + 1, [65_536, 1]],
    ['many blocks, odd chunk sizes (worker, backpressure)', 9 * BLOCK_BYTES + 12_345, [65_521, 3, 1_500_000, 7]],
  ];
  for (const [name, size, sizes] of cases) {
    test(name, async () => {
      const data = randomBytes(size);
      expect(await hashInChunks(data, sizes)).toBe(createHash('sha256').update(data).digest('hex'));
    });
  }

  test('parallel streams keep their own state', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => randomBytes(3 * BLOCK_BYTES + i * 1000));
    const digests = await Promise.all(inputs.map((d, i) => hashInChunks(d, [40_000 + i * 7])));
    expect(digests).toEqual(inputs.map((d) => createHash('sha256').update(d).digest('hex')));
  });

  test('an aborted stream leaves the others intact and refuses more data', async () => {
    const a = createStreamHasher();
    await a.update(randomBytes(3 * BLOCK_BYTES));
    a.abort();
    expect(() => a.update(new Uint8Array(1))).toThrow('finished');
    const data = randomBytes(2 * BLOCK_BYTES + 5);
    expect(await hashInChunks(data, [100_000])).toBe(createHash('sha256').update(data).digest('hex'));
  });
});
