/**
 * `releaseChunk` frees only what it was told it may: a chunk marked as a request body's own,
 * whole over its buffer. Anything else keeps its bytes.
 */
import { describe, expect, test } from 'bun:test';
import { markOwned, releaseChunk } from './memory';

describe('releaseChunk', () => {
  test('a marked chunk is freed at once (its buffer detached)', () => {
    const chunk = markOwned(new Uint8Array(512 * 1024).fill(7));
    const buffer = chunk.buffer;
    releaseChunk(chunk);
    expect(buffer.byteLength).toBe(0);
    expect(chunk.byteLength).toBe(0);
    // A second call is harmless.
    releaseChunk(chunk);
  });

  test('unmarked chunks, and views into a larger buffer, keep their bytes', () => {
    const plain = new Uint8Array(1024).fill(1);
    releaseChunk(plain);
    expect(plain.byteLength).toBe(1024);
    expect(plain[0]).toBe(1);

    const whole = new Uint8Array(2048).fill(2);
    const view = markOwned(whole.subarray(0, 1024));
    releaseChunk(view);
    expect(view.byteLength).toBe(1024);
    expect(whole.byteLength).toBe(2048);

    // Marking is per object: another view of a marked chunk's buffer is not freed through it.
    const marked = markOwned(new Uint8Array(1024).fill(3));
    const alias = new Uint8Array(marked.buffer);
    releaseChunk(alias);
    expect(marked.byteLength).toBe(1024);
  });

  test('shared memory is never detached', () => {
    const shared = markOwned(new Uint8Array(new SharedArrayBuffer(1024)));
    releaseChunk(shared);
    expect(shared.byteLength).toBe(1024);
  });
});
