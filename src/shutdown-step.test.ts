/** One shutdown step never holds up the others, whether it hangs, rejects or throws at once. */
import { expect, test } from 'bun:test';
import { shutdownStep } from './compose';

function recorder() {
  const lines: { level: 'warn' | 'error'; msg: string }[] = [];
  return {
    lines,
    log: {
      warn: (_: object, msg: string) => void lines.push({ level: 'warn', msg }),
      error: (_: object, msg: string) => void lines.push({ level: 'error', msg }),
    } as unknown as Parameters<typeof shutdownStep>[1],
  };
}

test('a step that never ends is left behind after its bound, with a warning; the next step runs', async () => {
  const { lines, log } = recorder();
  const ran: string[] = [];
  await shutdownStep(() => new Promise<void>(() => {}), log, 20);
  await shutdownStep(() => void ran.push('next'), log, 20);
  expect(lines).toEqual([{ level: 'warn', msg: 'a shutdown step did not finish in time; going on' }]);
  expect(ran).toEqual(['next']);
});

test('a step that rejects, or throws before returning a promise, is logged as an error and does not stop the others', async () => {
  const { lines, log } = recorder();
  await shutdownStep(() => Promise.reject(new Error('bus down')), log, 1_000);
  await shutdownStep(() => {
    throw new Error('sync');
  }, log, 1_000);
  expect(lines).toEqual([{ level: 'error', msg: 'shutdown step failed' }, { level: 'error', msg: 'shutdown step failed' }]);
});

test('a step that finishes in time logs nothing', async () => {
  const { lines, log } = recorder();
  await shutdownStep(async () => {}, log, 1_000);
  expect(lines).toEqual([]);
});
