/**
 * A server killed (SIGKILL) while ffmpeg transcodes: the next start stops the orphaned ffmpeg
 * (it ignores its dead parent and would run the whole transcode, next to the job's retry) and
 * removes the temp files it named: the rendition being written and, on S3, the local copy of the
 * source (it was kept in the OS temp folder, a whole video per crash).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase } from '../helpers/services';
import { until } from '../helpers/until';
import { tenHourSparse } from '../helpers/videos';

let minio: Minio | undefined;
afterAll(() => minio?.stop());

/** A process that has not exited (a zombie waiting for its new parent to reap it counts as gone). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The pid and arguments of the rendition's ffmpeg (the one reporting `-progress`) writing into `dataDir`. */
function renditionFfmpeg(dataDir: string): { pid: number; args: string[] } | null {
  for (const line of Bun.spawnSync(['ps', '-eo', 'pid,args']).stdout.toString().split('\n')) {
    if (!line.includes(dataDir) || !line.includes('ffmpeg') || !line.includes('-progress')) continue;
    const pid = Number(line.trim().split(/\s+/)[0]);
    return { pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
  }
  return null;
}

describe.each(['fs', 's3'] as const)('a server killed during a transcode, on %s', (driver) => {
  let srv: RunningServer | undefined;
  let orphan = 0;
  const db = createTestDatabase();
  afterAll(async () => {
    await srv?.close();
    if (orphan && running(orphan)) process.kill(orphan, 'SIGKILL');
    await (await db).drop();
  });

  test('the next start stops its ffmpeg and removes the files ffmpeg was given', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pictor-e2e-'));
    let env: Record<string, string> = { DATABASE_URL: (await db).url, DISABLE_RATE_LIMIT: 'true', VIDEO_MAX_DURATION: '100000' };
    if (driver === 's3') {
      minio ??= await startMinio();
      env = { ...env, ...minio.env(await minio.createBucket()) };
    }
    try {
      srv = await startServer({ env, dataDir });
      const key = srv.bootstrap!.api_key;
      const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/mp4' }, body: new Uint8Array(await tenHourSparse()) });
      expect(up.status).toBe(201);
      const id = ((await up.json()) as { file: { id: string } }).file.id;
      // ~900 000 frames: far from done when the server dies.
      expect((await fetch(`${srv.url}/t/w_64/${id}.mp4`)).status).toBe(202);
      const ffmpeg = await until('the rendition ffmpeg to start', async () => renditionFfmpeg(dataDir));
      orphan = ffmpeg.pid;
      // Its temp files: everything it names but the stored original (on fs, under files/).
      const temps = ffmpeg.args.filter((a) => a.startsWith('/') && !a.startsWith(join(dataDir, 'files')) && !a.includes('ffmpeg'));
      expect(temps.length).toBe(driver === 's3' ? 2 : 1);
      await until('ffmpeg to create its output', async () => (temps.every((t) => existsSync(t)) ? true : null));

      await srv.stop('SIGKILL');
      expect(running(orphan)).toBe(true); // what the next start has to stop

      // No queue worker this time: the job's retry would start a new ffmpeg.
      srv = await startServer({ env: { ...env, QUEUE_CONCURRENCY: '0' }, dataDir });
      await until('the orphaned ffmpeg to be stopped', async () => (running(orphan) ? null : true), 30_000);
      // The derivative cache opens (and sweeps) after the server answers, and removes the files
      // only after the kill: waited for, not assumed done when ffmpeg is.
      await until(`its temp files to be removed (${temps.join(', ')})`, async () => (temps.some((t) => existsSync(t)) ? null : true), 30_000);
    } finally {
      await srv?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
