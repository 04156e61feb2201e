/**
 * The inspector keeps the first PROBE_BYTES of a stream in one buffer (inspect.ts `keepHead`):
 * whatever the chunking and whatever the size hint says (exact, too small, too large, absent,
 * nonsense), `head` is exactly the stream's first bytes and the chunks pass through unchanged.
 */
import { describe, expect, test } from 'bun:test';
import { createInspector, PROBE_BYTES } from './inspect';

/** A text body of `size` bytes whose every byte depends on its offset. */
function textBody(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = 0x61 + (i % 26);
  return out;
}

function streamOf(data: Uint8Array, chunkSizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= data.byteLength) return c.close();
      const n = chunkSizes[i++ % chunkSizes.length]!;
      c.enqueue(data.slice(at, at + n)); // a fresh chunk each time, as the runtime hands them over
      at += n;
    },
  });
}

async function inspect(data: Uint8Array, chunkSizes: number[], sizeHint?: number) {
  const inspector = createInspector({ maxBytes: 10 * PROBE_BYTES, allowedTypes: ['text/plain'], sizeHint });
  const passed = new Uint8Array(await new Response(inspector.wrap(streamOf(data, chunkSizes))).arrayBuffer());
  return { passed, result: inspector.result() };
}

describe('the inspector\'s head', () => {
  const cases: [string, number, number[], number | undefined][] = [
    ['a small file in one chunk, exact hint', 300_000, [300_000], 300_000],
    ['a small file in 64 KiB chunks, no hint', 300_000, [65_536], undefined],
    ['a hint too small (grows)', 300_000, [65_536], 1_000],
    ['a hint far too large (a multipart request with other parts)', 200_000, [40_000, 70_000], 5 * PROBE_BYTES],
    ['a big file in odd chunks, no hint', PROBE_BYTES * 2 + 17, [100_003, 7, 65_536]],
    ['a big file, exact hint', PROBE_BYTES * 3, [524_288], PROBE_BYTES * 3],
    ['a nonsense hint', 10_000, [4_000], Number.NaN],
    ['a negative hint', 10_000, [4_000], -5],
    ['a zero hint', 10_000, [4_000], 0],
  ].map(([name, size, chunks, hint]) => [name as string, size as number, chunks as number[], hint as number | undefined]);

  for (const [name, size, chunks, hint] of cases) {
    test(name, async () => {
      const data = textBody(size);
      const { passed, result } = await inspect(data, chunks, hint);
      expect(passed).toEqual(data);
      expect(result.size).toBe(size);
      expect(result.contentType).toBe('text/plain');
      expect(result.complete).toBe(size <= PROBE_BYTES);
      expect(result.head).toEqual(data.subarray(0, Math.min(size, PROBE_BYTES)));
    });
  }
});
