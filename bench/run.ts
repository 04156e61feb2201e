/**
 * `npm run bench` (full) / `npm run bench -- --quick` (< 3 min): builds or finds k6, starts
 * Pictor on a fresh Postgres database + Redis, seeds data, runs every scenario against its
 * same-run baseline and the tuning variants, samples server RSS/CPU, and writes
 * `bench/results/<timestamp>.json` + `.md`. Exits 1 when a k6 threshold or a target fails.
 *
 * Options: --quick; --only=main|variants (develop one half); --steps=hits,uploads,… (main-phase
 * steps by name); BENCH_BIG_UPLOAD_BYTES to shrink
 * the 1 GiB upload while developing.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, requireRedis } from '../test/helpers/services';
import { settingsFor, type Ctx } from './lib/context';
import { runFormatsBench, runStartupBench } from './lib/extras';
import { HIT_SEGMENTS, runHits, runList, runOriginals, warmHits, writeStaticTree } from './lib/hot';
import { ensureK6, K6_BIN } from './lib/k6';
import { TARGET_NOTES } from './lib/notes';
import { ROOT, startPictor } from './lib/pictor';
import { killOwned, runCommand, waitIdle } from './lib/procs';
import { computeRatios, renderMarkdown } from './lib/report';
import { insertFileRowsPostgres, makeBigFile, makeUploadJpeg, prepareCorpus, seedAccount, uploadCorpus } from './lib/seed';
import { mainEnv, runVariants } from './lib/variants';
import { runApiKeyAuth, runCold, runLogin, runMixed, runSmallUploads, runUploadPair, runUploadRounds } from './lib/work';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
/** `--steps=hits,uploads`: run only these main-phase steps (development). */
const stepsFilter = args.find((a) => a.startsWith('--steps='))?.slice(8).split(',');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

process.on('SIGINT', () => {
  killOwned();
  process.exit(130);
});

console.log(`Pictor bench (${quick ? 'quick' : 'full'})`);
await ensureK6();
await requireRedis();
const db = await createTestDatabase();
const work = await mkdtemp(join(tmpdir(), 'pictor-bench-'));
const ctx: Ctx = {
  s: settingsFor(quick),
  work,
  databaseUrl: db.url,
  // A Redis database of its own, so the bench's limiter keys never meet anyone else's.
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9',
  corpus: [],
  upload200k: '',
  ids: [],
  hitPaths: [],
  dataDir: join(work, 'data'),
  entries: {},
};
let bigFile: string | null = null;
try {
  const corpus = await prepareCorpus(work);
  ctx.corpus = corpus.images;
  ctx.upload200k = (await makeUploadJpeg(work)).path;
  // The S3 variant's file when it is the size of the fs upload (a full run); bench/upload.ts,
  // which measures the fs upload, makes its own body.
  if (ctx.s.s3UploadBytes === ctx.s.bigUploadBytes) bigFile = await makeBigFile(work, ctx.s.bigUploadBytes).catch(() => null);
  console.log(`prepared corpus (${corpus.images.length} photos, ${corpus.source}) and payloads [${elapsed()}]`);

  if (only !== 'main') {
    // First, before any load phase: start-up is timed in absolute terms, and after the phases it
    // also timed their aftermath (Postgres writing back 100 000 seeded rows and the queue
    // bench's jobs), 1.5–1.7 s against 1.25–1.3 s alone in the same hour.
    console.log(`extra: start-up and idle memory (startup.ts) [${elapsed()}]`);
    await runStartupBench(ctx);
  }
  // The main phase seeds what the variants reuse; `--only=variants` seeds without measuring.
  await mainPhase(ctx, only !== 'variants');
  if (only !== 'main') await runVariants(ctx, bigFile, (m) => console.log(`${m} [${elapsed()}]`));
} finally {
  killOwned();
  await db.drop().catch(() => {});
}

const ratios = computeRatios(ctx.entries);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const meta = {
  date: new Date().toISOString(),
  command: `npm run bench${quick ? ' -- --quick' : ''}${only ? ` --only=${only}` : ''}`,
  machine: machine(),
  commit: commit(),
  corpus: `${ctx.corpus.length} photos`,
  k6: (await runCommand(K6_BIN, ['version'])).stdout.trim().split('\n')[0],
  bun: Bun.version,
  settings: ctx.s,
  wall_seconds: Math.round((Date.now() - started) / 1000),
};
const md = renderMarkdown(meta, ctx.entries, ratios, TARGET_NOTES);
const outDir = join(ROOT, 'bench/results');
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, `${stamp}.json`), JSON.stringify({ meta, entries: ctx.entries, ratios }, null, 2));
await writeFile(join(outDir, `${stamp}.md`), md);
await rm(work, { recursive: true, force: true });
console.log('\n' + md);
console.log(`wrote bench/results/${stamp}.json and .md in ${elapsed()}`);
const crossed = Object.values(ctx.entries).some((e) => e.load && !e.load.thresholds_ok);
const missed = ratios.some((r) => r.met === false);
process.exit(crossed || missed ? 1 : 0);

/** The main configuration: seeding, then scenarios 1, 4, 5, 7, 8, 3, 9, 6 and their baselines. */
async function mainPhase(ctx: Ctx, measure: boolean): Promise<void> {
  const p = await startPictor(mainEnv(ctx));
  console.log(`main server up (Postgres + Redis, WORKERS=1) [${elapsed()}]`);
  try {
    try {
      ctx.account = await seedAccount(p.url, p.bootstrap);
      await insertFileRowsPostgres(ctx.databaseUrl, ctx.account.userId, 100_000);
      console.log(`seeded account (${ctx.account.via}) and 100 000 file rows [${elapsed()}]`);
      ctx.ids = await uploadCorpus(p.url, ctx.account.apiKey, ctx.corpus);
      console.log(`uploaded ${ctx.ids.length} corpus photos [${elapsed()}]`);
    } catch (err) {
      console.log(`  seeding incomplete: ${(err as Error).message}`);
    }
    if (!measure) {
      ctx.hitPaths = ctx.ids.flatMap((id) => HIT_SEGMENTS.map((seg) => `/t/${seg}/${id}`));
      await warmHits(ctx, p, 'HIT-MEMORY');
      // The baselines' static tree is written by runHits; write it here when it does not run.
      await writeStaticTree(ctx, p);
      return;
    }
    const steps: [string, () => Promise<void>][] = [
      ['hits', () => runHits(ctx, p)],
      ['originals', () => runOriginals(ctx, p)],
      ['list', () => runList(ctx, p, 'list_postgres', ctx.account?.apiKey, {})],
      ['uploads', () => runSmallUploads(ctx, p)],
      ['upload-pair', () => runUploadPair(ctx, p)],
      ['login', () => runLogin(ctx, p)],
      ['auth', () => runApiKeyAuth(ctx, p)],
      ['cold', () => runCold(ctx, p, 'cold_transforms', 1, true)],
      ['formats', () => runFormatsBench(ctx)],
      ['mixed', () => runMixed(ctx, p)],
      ['upload-big', () => runUploadRounds(ctx, quick ? 1 : 3)],
    ];
    for (const [name, step] of steps) {
      if (stepsFilter && !stepsFilter.includes(name)) continue;
      console.log(`${name} [${elapsed()}]`);
      await step().catch((err: Error) => console.log(`  ${name} failed: ${err.message}`));
      const waited = await waitIdle(p.pid);
      if (waited > 1000) console.log(`  (waited ${(waited / 1000).toFixed(1)} s for the server to go idle)`);
    }
  } finally {
    await p.stop();
  }
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    /* not Linux */
  }
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Linux ${kernel}, Bun ${Bun.version}`;
}

function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: ROOT }).toString().trim() ? ' (+ uncommitted changes)' : '';
    return sha + dirty;
  } catch {
    return 'unknown';
  }
}
