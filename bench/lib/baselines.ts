/**
 * The same-run baselines: nginx (the Debian package) serving the derivative bytes as static
 * files, a minimal `Bun.serve` answering them from memory, a minimal Bun upload sink, a minimal
 * pass-through server to S3, and sharp in-process. Each is started here, owned by pid, and
 * stopped after its scenario.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './pictor';
import { freePort, runCommand, spawnOwned, stopChild } from './procs';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface Baseline {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Waits for a child's `{"msg":"listening","port":n}` line. */
async function waitListening(proc: ChildProcess, what: string): Promise<number> {
  return new Promise((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start: ${buf}`)), 15_000);
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"port":(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.stderr?.on('data', (d: Buffer) => void (buf += d.toString()));
    proc.once('exit', (c) => fail(new Error(`${what} exited (${c}): ${buf}`)));
  });
}

async function startBunScript(script: string, args: string[], what: string): Promise<Baseline> {
  const proc = spawnOwned(process.execPath, [join(ROOT, 'bench/baselines', script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await waitListening(proc, what);
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid!, stop: () => stopChild(proc) };
}

/**
 * Minimal Bun.serve answering `manifest` (URL path → file) from memory; with `peer`, it also
 * reads each request's peer address, as an IP-keyed rate limit must.
 */
export const startBunMemory = (manifestPath: string, peer = false) =>
  startBunScript('memory-server.ts', peer ? [manifestPath, 'peer'] : [manifestPath], 'Bun.serve baseline');

/**
 * The least a server can do for the file list's default page (bench/baselines/list-floor-server.ts):
 * Pictor's own statements on the same database, for `userId`'s files, URLs under `base`.
 */
export const startListFloor = (databaseUrl: string, userId: string, base: string) =>
  startBunScript('list-floor-server.ts', [databaseUrl, userId, base, '10' /* DATABASE_POOL's default, as the bench's Pictor runs */], 'list floor baseline');

/**
 * The least a server in front of S3 can do (bench/baselines/s3-hop-server.ts): each POST's body
 * passed to MinIO by Bun's native client, with Pictor's part size, and nothing else.
 */
export const startS3Hop = (s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string }) =>
  startBunScript('s3-hop-server.ts', [s3.endpoint, s3.bucket, s3.accessKeyId, s3.secretAccessKey], 'S3 pass-through baseline');

/**
 * nginx on 127.0.0.1 serving `root` as static files with the settings a CDN origin would use
 * (sendfile, open_file_cache, no access log), `workers` worker processes (= Pictor's WORKERS,
 * so both sides get the same CPU), content type forced to `type`.
 */
export async function startNginx(root: string, workDir: string, workers: number, type: string): Promise<Baseline> {
  if (!existsSync(NGINX_BIN)) throw new Error(`nginx not found at ${NGINX_BIN}`);
  const port = await freePort();
  await mkdir(join(workDir, 'tmp'), { recursive: true });
  const conf = join(workDir, 'nginx.conf');
  const t = join(workDir, 'tmp');
  await writeFile(
    conf,
    `daemon off;
master_process on;
worker_processes ${workers};
user root;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  types { }
  default_type ${type};
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
`,
  );
  const test = await runCommand(NGINX_BIN, ['-t', '-q', '-e', join(workDir, 'error.log'), '-p', workDir, '-c', conf]);
  if (test.code !== 0) throw new Error(`nginx config rejected: ${test.stderr}`);
  const proc = spawnOwned(NGINX_BIN, ['-e', join(workDir, 'error.log'), '-p', workDir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await fetch(url).then(() => true, () => false))) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('nginx did not start');
    await Bun.sleep(50);
  }
  // nginx stops gracefully on SIGQUIT; SIGTERM is its fast shutdown, which is what we want.
  return { url, pid: proc.pid!, stop: () => stopChild(proc) };
}

/** Runs the in-process sharp baseline over `jobs` at `concurrency`. */
export async function runSharpBaseline(jobsFile: string): Promise<{ count: number; rps: number; p50_ms: number; p95_ms: number; p99_ms: number }> {
  const r = await runCommand(process.execPath, [join(ROOT, 'bench/baselines/sharp-run.ts'), jobsFile], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`sharp baseline failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
