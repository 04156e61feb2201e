/**
 * Runs an external program (ffmpeg, ffprobe) as a child process with an argument array — never
 * through a shell — under a hard time bound and an output bound. `node:child_process` works the
 * same on Node, Bun and Deno. On timeout, abort or an over-long stdout the child is killed with
 * SIGKILL, so a hostile input can never hold a worker.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  timeoutMs: number;
  /** Most stdout bytes kept; past it the child is killed and the run fails. */
  maxStdoutBytes: number;
  signal?: AbortSignal;
  /** Takes stdout as it comes instead of keeping it (a progress stream); `stdout` is then empty. */
  onStdout?: (chunk: Buffer) => void;
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  /** The last few KiB of stderr (enough for the error line). */
  stderr: string;
  /** Why the child was killed by us, if it was. */
  killed?: 'timeout' | 'aborted' | 'output';
}

const STDERR_KEEP = 8192;

export function runProcess(command: string, args: readonly string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killed: RunResult['killed'];
    const kill = (why: NonNullable<RunResult['killed']>) => {
      if (killed) return;
      killed = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), o.timeoutMs);
    const onAbort = () => kill('aborted');
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (o.onStdout) return o.onStdout(chunk);
      outBytes += chunk.byteLength;
      if (outBytes > o.maxStdoutBytes) return kill('output');
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, ...(killed ? { killed } : {}) });
    });
  });
}
