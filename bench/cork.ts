/**
 * How many socket sends Bun makes for one answer produced after an `await`, by body size and body
 * kind: the measurement behind src/platform/small-body.ts (docs/TUNING.md, "The file list").
 * Starts bench/baselines/late-answer-server.ts, attaches `strace -c` to it, and for each case
 * fetches 20 answers; prints the sends (sendto, sendmsg, writev) per answer. Needs strace.
 * Usage: ./node_modules/.bin/bun bench/cork.ts
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ANSWERS = 20;
const server = Bun.spawn([process.execPath, join(import.meta.dir, 'baselines/late-answer-server.ts')], { stdout: 'pipe' });
const reader = server.stdout.getReader();
let port = 0;
for (let seen = ''; !port;) {
  const { value, done } = await reader.read();
  if (done) throw new Error('the server did not start');
  seen += new TextDecoder().decode(value);
  port = Number(/"port":(\d+)/.exec(seen)?.[1] ?? 0);
}
const work = await mkdtemp(join(tmpdir(), 'pictor-cork-'));

/** Sends of the server while `answers` answers of `path` are fetched, counted by strace. */
async function sendsFor(path: string): Promise<number> {
  const out = join(work, 'strace.txt');
  const tracer = Bun.spawn(['strace', '-c', '-f', '-e', 'trace=sendto,sendmsg,writev', '-o', out, '-p', String(server.pid)], { stderr: 'pipe' });
  const err = tracer.stderr.getReader();
  for (let seen = ''; !seen.includes('attached');) {
    const { value, done } = await err.read();
    if (done) throw new Error('strace did not attach (is it installed?)');
    seen += new TextDecoder().decode(value);
  }
  for (let i = 0; i < ANSWERS; i++) await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer();
  tracer.kill('SIGINT');
  await tracer.exited;
  return readFileSync(out, 'utf8').split('\n')
    .map((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(sendto|sendmsg|writev)$/.exec(line))
    .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
}

try {
  console.log('| body bytes | string body: sends per answer | one-chunk stream: sends per answer |\n|---:|---:|---:|');
  for (const size of [8_000, 15_000, 16_500, 20_000, 30_000]) {
    const plain = await sendsFor(`/${size}/plain`);
    const stream = await sendsFor(`/${size}/stream`);
    console.log(`| ${size} | ${(plain / ANSWERS).toFixed(1)} | ${(stream / ANSWERS).toFixed(1)} |`);
  }
} finally {
  server.kill();
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
