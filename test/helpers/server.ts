/**
 * Starts the real server as a child process on an ephemeral port, with a temp `DATA_DIR` and
 * the dependencies the test chooses, and waits until it logs `listening`. End-to-end suites
 * talk to it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configSchema } from '../../src/config';
import { checkAllResponses } from './openapi';

const ROOT = resolve(import.meta.dir, '../..');

export interface StartOptions {
  env?: Record<string, string>;
  /** Runtime to run under; Deno runs `src/main.deno.ts`. */
  runtime?: 'bun' | 'deno';
  /** Reuse a data directory (e.g. to restart a server on the same data). */
  dataDir?: string;
  /** How long to wait for `listening` (default 90 s: a fresh start takes ~5 s idle, far longer on a loaded machine). */
  timeoutMs?: number;
  /**
   * Check every answer this server gives the suite's fetch against its /openapi.json (default
   * true; OPENAPI_CHECK_ALL=0 turns it off). Off only for suites that send what no document lists
   * on purpose (the fuzz test's malformed requests get the runtime's own 400/431/505).
   */
  checkResponses?: boolean;
}

export interface LogLine {
  level?: string;
  msg?: string;
  [key: string]: unknown;
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Parsed JSON log lines so far (non-JSON lines are kept as `{msg}`). */
  logs: LogLine[];
  /** The bootstrap admin's API key and password, when this start created them. */
  bootstrap?: { email: string; initial_password: string; api_key: string };
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops the process (if running) and removes a data directory this helper created. */
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'pictor-e2e-')));
  const runtime = opts.runtime ?? 'bun';
  const cmd = runtime === 'bun' ? process.execPath : join(ROOT, 'node_modules/.bin/deno');
  const args = runtime === 'bun' ? ['src/main.ts'] : ['run', '--allow-all', 'src/main.deno.ts'];
  // Start from the environment minus every Pictor setting, so a developer's or CI's shell
  // (DATABASE_URL, REDIS_URL, …) never changes what a test runs against.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in configSchema)));
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let onLine: ((line: LogLine) => void) | null = null;
  const collect = (stream: NodeJS.ReadableStream) => {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        logs.push(line);
        onLine?.(line);
      }
    });
  };
  collect(proc.stdout!);
  collect(proc.stderr!);

  const timeoutMs = opts.timeoutMs ?? 90_000;
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${dump(logs)}`)), timeoutMs);
    const check = (line: LogLine) => {
      if (line.msg === 'listening' && typeof line.port === 'number') {
        clearTimeout(timer);
        resolvePort(line.port);
      }
    };
    logs.forEach(check);
    onLine = check;
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${dump(logs)}`));
    });
  });
  onLine = null;
  const bootstrapLine = logs.find((l) => l.bootstrap);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill(signal);
    return exited;
  };
  // Every answer this server gives a suite's fetch is checked against its /openapi.json.
  if ((opts.checkResponses ?? true) && process.env.OPENAPI_CHECK_ALL !== '0') checkAllResponses(`http://127.0.0.1:${port}`);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    proc,
    logs,
    bootstrap: bootstrapLine?.bootstrap as RunningServer['bootstrap'],
    stop,
    close: async () => {
      await stop('SIGKILL');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const dump = (logs: LogLine[]) => logs.map((l) => JSON.stringify(l)).join('\n');
