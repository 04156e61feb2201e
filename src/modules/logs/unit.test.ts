/** Pure unit tests: URL sanitising, the bounded log buffer, and the test Prometheus parser itself. */
import { describe, expect, test } from 'bun:test';
import { parsePrometheus } from '../../../test/helpers/prometheus';
import { until } from '../../../test/helpers/until';
import { createLogBuffer } from './buffer';
import { REDACTED, sanitizeUrl } from './sanitize';

describe('sanitizeUrl', () => {
  const key = `pk_${'aB3'.repeat(12)}`;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
  test.each([
    ['http://h/api/files?limit=10&cursor=abc', '/api/files?limit=10&cursor=abc'],
    [`http://h/api/files?api_key=${key}&limit=5`, `/api/files?api_key=${REDACTED}&limit=5`],
    [`http://h/api/x?token=short&access_token=${jwt}`, `/api/x?token=${REDACTED}&access_token=${REDACTED}`],
    [`http://h/api/auth/verify/${'Zx9'.repeat(12)}`, `/api/auth/verify/${REDACTED}`],
    [`http://h/api/keys/${key}/x`, `/api/keys/${REDACTED}/x`],
    [`http://h/api/s/${jwt}`, `/api/s/${REDACTED}`],
    ['http://h/authenticated/s--abcDEF12--/w_10/abc.png', `/authenticated/${REDACTED}/w_10/abc.png`],
    ['http://h/api/files/a1B2c3D4e5F6', '/api/files/a1B2c3D4e5F6'],
    ['http://h/api/queue/jobs/3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c', '/api/queue/jobs/3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c'],
    [`http://h/api/x?q=${key}`, `/api/x?q=${REDACTED}`],
    ['http://h/api/x?X-Amz-Signature=deadbeef&password=hunter2', `/api/x?X-Amz-Signature=${REDACTED}&password=${REDACTED}`],
  ])('%s', (url, want) => {
    expect(sanitizeUrl(url)).toBe(want);
  });

  test('never returns an API key or JWT anywhere in a long mixed URL', () => {
    const out = sanitizeUrl(`http://h/a/${key}/b?x=1&k=${encodeURIComponent(jwt)}&${key}=1`);
    expect(out).not.toContain('pk_');
    expect(out).not.toContain('eyJ');
  });
});

describe('log buffer', () => {
  test('a batch the database could not take (away) is tried again at the next tick, none lost; a flush then drops it rather than wait', async () => {
    const away = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let down = true;
    let tries = 0;
    const written: number[] = [];
    const buf = createLogBuffer<number>({
      capacity: 100,
      batchSize: 4,
      intervalMs: 5,
      retryable: (err) => err === away,
      write: async (batch) => {
        tries++;
        if (down) throw away;
        written.push(...batch);
      },
    });
    for (let i = 0; i < 10; i++) buf.push(i);
    await until('two failed tries', async () => (tries >= 2 ? true : null));
    expect([buf.dropped(), buf.size()]).toEqual([0, 10]);
    down = false;
    await until('everything written', async () => (written.length === 10 ? true : null));
    expect(written).toEqual([...Array(10).keys()]);

    down = true;
    buf.push(10);
    await buf.flush(); // ends: what fails while flushing is dropped, not retried for ever
    expect([buf.dropped(), buf.size()]).toEqual([1, 0]);
  });

  test('drops and counts beyond capacity while the writer is stalled, never blocks, then writes the rest', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    const written: number[] = [];
    let dropped = 0;
    const buf = createLogBuffer<number>({
      capacity: 10,
      batchSize: 4,
      intervalMs: 5,
      write: async (batch) => {
        await stalled;
        written.push(...batch);
      },
      onDrop: (n) => (dropped += n),
    });
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (buf.push(i)) accepted++; // synchronous: push never awaits
    expect(buf.size()).toBeLessThanOrEqual(10);
    await Bun.sleep(20); // the writer takes its first batch and stalls on it
    for (let i = 100; i < 110; i++) if (buf.push(i)) accepted++;
    expect(dropped).toBe(110 - accepted);
    expect(dropped).toBeGreaterThan(0);
    expect(buf.dropped()).toBe(dropped);
    release();
    await buf.flush();
    expect(written.length).toBe(accepted);
    expect(new Set(written).size).toBe(accepted);
  });

  test('a busy writer writes full batches only; the partial rest waits for the timer', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    const batches: number[][] = [];
    const buf = createLogBuffer<number>({
      capacity: 100,
      batchSize: 10,
      intervalMs: 80,
      write: async (batch) => {
        if (batches.length === 0) await stalled;
        batches.push(batch);
      },
    });
    for (let i = 0; i < 10; i++) buf.push(i); // a full batch: written at once (and stalls)
    for (let i = 10; i < 23; i++) buf.push(i); // arrives during the write: one more full batch and 3 left
    release();
    await Bun.sleep(20);
    expect(batches.map((b) => b.length)).toEqual([10, 10]);
    expect(buf.size()).toBe(3);
    await Bun.sleep(120);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  test('a failing batch is dropped and counted, later batches still go through', async () => {
    let fail = true;
    const written: number[] = [];
    let dropped = 0;
    const buf = createLogBuffer<number>({
      capacity: 100,
      batchSize: 3,
      write: async (b) => {
        if (fail) throw new Error('db down');
        written.push(...b);
      },
      onDrop: (n) => (dropped += n),
    });
    [1, 2, 3].forEach((n) => buf.push(n));
    await buf.flush();
    fail = false;
    [4, 5].forEach((n) => buf.push(n));
    await buf.flush();
    expect(dropped).toBe(3);
    expect(written).toEqual([4, 5]);
  });
});

describe('test Prometheus parser', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n';
  test('accepts well-formed text', () => {
    const f = parsePrometheus(ok);
    expect(f.get('a_total')?.samples[0]?.value).toBe(3);
  });
  test.each([
    ['sample before TYPE', 'b 1\n'],
    ['bad value', '# TYPE a gauge\na Nan\n'],
    ['unquoted label', '# TYPE a gauge\na{x=1} 1\n'],
    ['negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['+Inf bucket != count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['missing +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});
