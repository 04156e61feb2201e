/**
 * Starts Pictor (`bun src/main.ts`) for one benchmark variant: a fixed free port (so
 * `WORKERS=2` shares it), quiet logs, generous rate limits (the limiter still runs; its cost is
 * measured by the `DISABLE_RATE_LIMIT` variant), and waits for `listening`.
 */
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { configSchema } from '../../src/config';
import { freePort, spawnOwned, stopChild } from './procs';

/** The repository root (the server runs from here). */
export const ROOT = resolve(import.meta.dir, '../..');

/** A running Pictor under test, owned by this harness. */
export interface Pictor {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** The bootstrap admin (first start on an empty database only). */
  bootstrap?: { email: string; initial_password: string; api_key: string };
  /** Last log lines, for error reports. */
  tail(): string;
  stop(): Promise<void>;
}

/** High enough never to trigger under the bench load, low enough to be real limits. */
export const BENCH_LIMITS: Record<string, string> = {
  RATE_LIMIT_PUBLIC: '100000000/60s',
  RATE_LIMIT_TRANSFORM: '100000000/60s',
  RATE_LIMIT_API: '100000000/60s',
  RATE_LIMIT_UPLOAD_COUNT: '100000000/10m',
  RATE_LIMIT_UPLOAD_BYTES: '100000GiB/1h',
  RATE_LIMIT_UPLOAD_CONCURRENCY: '64',
  RATE_LIMIT_LOGIN: '100000000/15m',
  RATE_LIMIT_LOGIN_IP: '100000000/15m',
  RATE_LIMIT_PASSWORD_RESET: '100000/1h',
  RATE_LIMIT_SHARE_PASSWORD: '100000/15m',
  RATE_LIMIT_REGISTER: '100000/1h',
  RATE_LIMIT_SENSITIVE: '100000/15m',
  RATE_LIMIT_REFRESH: '100000/15m',
  MAX_UPLOAD_BYTES: '2GiB',
  PROMOTED_MAX_UPLOAD_BYTES: '2GiB',
  MAX_FILES: '10000000',
  STORAGE_QUOTA_BYTES: '1000GiB',
};

/** Starts Pictor with the bench defaults plus `env`; resolves once every worker listens. */
export async function startPictor(env: Record<string, string>, timeoutMs = 60_000): Promise<Pictor> {
  const port = await freePort();
  // Only the variant's settings: a developer's shell (DATABASE_URL, …) must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in configSchema)));
  const proc = spawnOwned(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info', ...BENCH_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let bootstrap: Pictor['bootstrap'];
  let listening = 0;
  const wanted = Number(env.WORKERS ?? '1');
  let onReady: (() => void) | null = null;
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(text);
        if (lines.length > 200) lines.shift();
        try {
          const j = JSON.parse(text) as { msg?: string; bootstrap?: Pictor['bootstrap'] };
          if (j.bootstrap) bootstrap = j.bootstrap;
          if (j.msg === 'listening' && ++listening >= wanted) onReady?.();
        } catch {
          /* not JSON */
        }
      }
    });
  };
  collect(proc.stdout);
  collect(proc.stderr);
  const tail = () => lines.slice(-30).join('\n');
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`Pictor did not listen within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    onReady = () => {
      clearTimeout(timer);
      ok();
    };
    if (listening >= wanted) onReady();
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`Pictor exited (${code}) before listening:\n${tail()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    proc,
    bootstrap,
    tail,
    stop: () => stopChild(proc, 10_000),
  };
}
