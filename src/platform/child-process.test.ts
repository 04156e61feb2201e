import { expect, test } from 'bun:test';
import { runProcess } from './child-process';

test('a child past its time is killed (SIGKILL) and reported as timeout', async () => {
  const r = await runProcess('sleep', ['30'], { timeoutMs: 200, maxStdoutBytes: 1024 });
  expect(r.killed).toBe('timeout');
  expect(r.code).toBeNull();
});

test('a child writing more than the output bound is killed; what was kept stays within the bound', async () => {
  const r = await runProcess('yes', [], { timeoutMs: 30_000, maxStdoutBytes: 64 * 1024 });
  expect(r.killed).toBe('output');
  expect(r.stdout.byteLength).toBeLessThanOrEqual(64 * 1024);
});

test('arguments are passed as they are, never through a shell', async () => {
  const r = await runProcess('echo', ['$(id)', ';', 'x'], { timeoutMs: 10_000, maxStdoutBytes: 1024 });
  expect(r.stdout.toString()).toBe('$(id) ; x\n');
  expect(r.code).toBe(0);
});

test('an abort signal kills the child', async () => {
  const ac = new AbortController();
  const p = runProcess('sleep', ['30'], { timeoutMs: 60_000, maxStdoutBytes: 1024, signal: ac.signal });
  ac.abort();
  expect((await p).killed).toBe('aborted');
});
