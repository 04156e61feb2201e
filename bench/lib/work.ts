/**
 * Write- and CPU-path scenarios: small multipart uploads, logins (argon2), cold transforms vs
 * in-process sharp, the mixed profile, and the 1 GiB raw upload vs a raw stream-to-disk server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSharpBaseline, type Baseline } from './baselines';
import { coldOps, coldSegment } from './cold';
import { probe, record, unavailable, warmAndRun, writeJson, type Ctx } from './context';
import { runK6 } from './k6';
import { ROOT, type Pictor } from './pictor';
import { runCommand, sampleTree, waitIdle, waitSettled } from './procs';
import { foldRounds } from './stats';
import { makeDistinctPayloads } from './seed';

/**
 * Scenario 5: 200 KB multipart uploads with an API key — the uploads issue's own script
 * (`k6/upload-small.js`, text payload) when present, else `k6/upload.js` (a 200 KB JPEG).
 */
export async function runSmallUploads(ctx: Ctx, p: Pictor): Promise<void> {
  const key = ctx.account?.apiKey;
  if (!key) return unavailable(ctx, 'uploads_small', 'scenario', 'multipart uploads', 'no API key (account seeding failed)');
  const reuse = existsSync(join(ROOT, 'bench/k6/upload-small.js'));
  const env = { BASE_URL: p.url, API_KEY: key, FILE: ctx.upload200k, VUS: ctx.s.vusUpload, DURATION: ctx.s.duration, P95_MS: 500, P99_MS: 1000 };
  const title = reuse ? '200 KB multipart uploads, API key (upload-small.js, text payload)' : '200 KB multipart JPEG uploads, API key';
  await record(ctx, 'uploads_small', 'scenario', title, p.pid, async () => ({
    load: reuse ? await runK6('upload-small.js', env, { http_req_duration: ['p(95)<500', 'p(99)<1000'] }) : await warmAndRun(ctx, 'upload.js', env),
  }));
}

/**
 * Target 8 of the delivery issue: distinct 200 KB JPEG uploads against distinct text uploads of
 * the same length, same server and VUs, two rounds in mirrored order (each side keeps its better
 * round). Each window is followed by a wait for the server to go idle, so the text side never
 * pays for the image side's derive jobs; how long that took is recorded as `drain_s`.
 */
export async function runUploadPair(ctx: Ctx, p: Pictor): Promise<void> {
  const key = ctx.account?.apiKey;
  const sides = ['uploads_image', 'uploads_text'] as const;
  if (!key) {
    for (const k of sides) unavailable(ctx, k, 'scenario', k, 'no API key (account seeding failed)');
    return;
  }
  const pay = await makeDistinctPayloads(ctx.work, ctx.upload200k);
  const env = (image: boolean) => ({
    BASE_URL: p.url, API_KEY: key, FILE: image ? pay.jpeg : pay.text, NAME: image ? 'photo.jpg' : 'notes.txt', TYPE: image ? 'image/jpeg' : 'text/plain',
    SLOT_OFFSET: image ? pay.jpegSlot : pay.textSlot, VUS: ctx.s.vusUpload, P95_MS: 2000,
  });
  for (const order of [sides, [...sides].reverse()]) {
    for (const side of order) {
      const image = side === 'uploads_image';
      const before = ctx.entries[side];
      const title = `distinct ${Math.round(pay.bytes / 1000)} KB ${image ? 'JPEG' : 'text'} multipart uploads, API key (upload-distinct.js)`;
      const now = await record(ctx, side, 'scenario', title, p.pid, async () => ({ load: await warmAndRun(ctx, 'upload-distinct.js', env(image), true) }));
      const drained = await waitIdle(p.pid, 60_000);
      if (now) now.extra = { ...now.extra, drain_s: Math.round(drained / 100) / 10 };
      const keep = before?.load && (!now?.load || before.load.rps >= now.load.rps) ? before : now;
      if (keep) ctx.entries[side] = keep;
    }
  }
}

/** Scenario 8: password logins. */
export async function runLogin(ctx: Ctx, p: Pictor): Promise<void> {
  const a = ctx.account;
  if (!a) return unavailable(ctx, 'login', 'scenario', 'login', 'no account (seeding failed)');
  const check = await probe(`${p.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: a.email, password: a.password }) });
  if (!check.ok) return unavailable(ctx, 'login', 'scenario', 'login', check.reason);
  const env = { BASE_URL: p.url, EMAIL: a.email, PASSWORD: a.password, VUS: ctx.s.vusLogin, P95_MS: 2000 };
  await record(ctx, 'login', 'scenario', 'POST /api/auth/login (argon2id)', p.pid, async () => ({ load: await warmAndRun(ctx, 'login.js', env) }));
}

const COLD_THRESHOLDS = { http_req_failed: ['rate==0'], checks: ['rate==1'], http_req_duration: ['p(95)<10000'] };

/**
 * The auth issue's own script (bench/k6/auth.js) when present: API-key `GET /api/profile` vs
 * unauthenticated `/health` on the same server, one after the other; its figures come from
 * its handleSummary line.
 */
export async function runApiKeyAuth(ctx: Ctx, p: Pictor, name = 'api_key_auth', config?: Record<string, string>): Promise<void> {
  const key = ctx.account?.apiKey;
  const kind = config ? 'variant' : 'scenario';
  if (!existsSync(join(ROOT, 'bench/k6/auth.js'))) return unavailable(ctx, name, kind, 'API-key auth', 'bench/k6/auth.js is not there yet');
  if (!key) return unavailable(ctx, name, kind, 'API-key auth', 'no API key (account seeding failed)');
  const seconds = ctx.s.quick ? 2 : 5;
  await record(ctx, name, kind, `API-key GET /api/profile vs GET /health (auth.js)${config ? ', ' + Object.entries(config).map(([k, v]) => `${k}=${v}`).join(' ') : ''}`, p.pid, async () => {
    // auth.js alternates health/profile rounds; quick: one short round each.
    const load = await runK6('auth.js', { BASE_URL: p.url, API_KEY: key, VUS: ctx.s.vusHits, DURATION: seconds, SECONDS: seconds, ROUNDS: ctx.s.quick ? 1 : 4 });
    const own = JSON.parse(load.stdout ?? '{}') as { health_rps?: number; profile_rps?: number; ratio?: number };
    if (own.profile_rps === undefined) throw new Error(`auth.js printed no figures: ${load.stdout}`);
    return { load, extra: { profile_rps: own.profile_rps, health_rps: own.health_rps ?? 0, profile_to_health: own.ratio ?? 0 } };
  }, config);
}

/**
 * Scenario 3 (+ the sharp baseline when `withBaseline`): distinct transforms at a fixed
 * concurrency. With the baseline, two rounds in mirrored order (Pictor then sharp, then sharp
 * then Pictor), each round on URLs of its own; each side's rate is over both rounds. In one
 * round, whichever side ran second could meet a busier machine: 1.20 in one run of 2026-12-05
 * where the runs before gave 1.04 and 1.06 (docs/TUNING.md, "How the quick run times cold renders").
 */
export async function runCold(ctx: Ctx, p: Pictor, key: string, salt: number, withBaseline: boolean, config: Record<string, string> = {}): Promise<void> {
  const kind = key === 'cold_transforms' ? 'scenario' : 'variant';
  if (!ctx.ids.length) return unavailable(ctx, key, kind, 'cold transforms', 'no corpus files were uploaded');
  // One small render per output format first (the sharp baseline does the same before its
  // clock starts), so neither side times an encoder's first use.
  for (const f of WARM_FORMATS) {
    const check = await probe(`${p.url}/t/w_${f.width},f_${f.format === 'jpeg' ? 'jpg' : f.format}/${ctx.ids[0]}`);
    if (!check.ok) return unavailable(ctx, key, kind, 'cold transforms', check.reason);
  }
  const c = ctx.s.coldConcurrency;
  const n = ctx.s.coldIterations;
  // The transform issue's own script (it also checks every answer is a real MISS) when present.
  const reuse = existsSync(join(ROOT, 'bench/k6/transform-cold.js'));
  const pictorRound = async (roundKey: string, s: number) => {
    const urls = coldOps(n, s).map((op, i) => `${p.url}/t/${coldSegment(op)}/${ctx.ids[i % ctx.ids.length]}`);
    const env = { URLS_FILE: await writeJson(ctx, 'cold', urls), ITERATIONS: n, VUS: c, P95_MS: 10_000 };
    // Both sides start on a quiet server: derive jobs of the corpus upload, or an earlier
    // phase's aftermath, would otherwise be timed with whichever side ran during them.
    await waitIdle(p.pid, 60_000);
    await record(ctx, roundKey, kind, `cold transforms, ${n} distinct URLs at concurrency ${c}${reuse ? ' (transform-cold.js)' : ''}`, p.pid, async () => ({
      load: await (reuse ? runK6('transform-cold.js', env, COLD_THRESHOLDS) : runK6('get.js', env)),
    }), config);
  };
  const sharpRound = async (roundKey: string, s: number) => {
    const jobs = coldOps(n, s).map((op, i) => ({ src: ctx.corpus[i % ctx.corpus.length]!.path, op }));
    const warm = WARM_FORMATS.map((f) => ({ src: ctx.corpus[0]!.path, op: { w: f.width, fit: 'inside', format: f.format } }));
    const jobsFile = await writeJson(ctx, 'sharp-jobs', { concurrency: c, jobs, warm });
    await waitIdle(p.pid, 60_000);
    await record(ctx, roundKey, 'baseline', `sharp in-process, same ${n} ops at concurrency ${c}`, null, async () => {
      const r = await runSharpBaseline(jobsFile);
      return { load: { requests: r.count, rps: r.rps, p50_ms: r.p50_ms, p95_ms: r.p95_ms, p99_ms: r.p99_ms, max_ms: 0, unexpected: 0, rejected: 0, mb_received_per_s: 0, dropped: 0, thresholds_ok: true, crossed: [], duration_s: 0 } };
    });
  };
  if (!withBaseline) return pictorRound(key, salt);
  // The second round's salt gives URLs of their own (coldOps: distinct for any two salts not
  // equal modulo 500; the variants use 2, 3, …).
  await pictorRound(key, salt);
  await sharpRound('sharp', salt);
  await sharpRound('sharp_mirrored', salt + 100);
  await pictorRound(`${key}_mirrored`, salt + 100);
  foldRounds(ctx.entries, key, `${key}_mirrored`);
  foldRounds(ctx.entries, 'sharp', 'sharp_mirrored');
}

/** Warm-up renders of the cold scenario: widths no op uses (ops have odd widths from 201). */
const WARM_FORMATS = [{ format: 'webp', width: 97 }, { format: 'jpeg', width: 95 }, { format: 'avif', width: 93 }] as const;

/** Scenario 9: 95 % hits, 4 % misses, 1 % uploads. */
export async function runMixed(ctx: Ctx, p: Pictor): Promise<void> {
  if (!ctx.hitPaths.length || !ctx.account) return unavailable(ctx, 'mixed', 'scenario', 'mixed profile', 'needs the hit URLs and an account (an earlier step was unavailable)');
  const env = {
    URLS_FILE: await writeJson(ctx, 'mixed-hits', ctx.hitPaths.map((x) => p.url + x)),
    MISS_FILE: await writeJson(ctx, 'mixed-miss', { base: p.url, ids: ctx.ids }),
    BASE_URL: p.url, API_KEY: ctx.account.apiKey, FILE: ctx.upload200k, VUS: ctx.s.vusMixed, RATE: ctx.s.mixedRate,
    ALLOW_STATUS: '429,503', P95_MS: 1000,
  };
  await record(ctx, 'mixed', 'scenario', `mixed at ${ctx.s.mixedRate} req/s offered: 95 % hits, 4 % misses, 1 % uploads`, p.pid, async () => ({ load: await warmAndRun(ctx, 'mixed.js', env) }));
}

/** One raw upload of `file` with curl (streams from disk, sends Content-Length). */
async function curlUpload(url: string, file: string, headers: string[]): Promise<{ status: number; seconds: number }> {
  const args = ['-sS', '--max-time', '600', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '-X', 'POST', '-T', file, '-H', 'Content-Type: text/plain', '-H', 'Expect:'];
  for (const h of headers) args.push('-H', h);
  const r = await runCommand('curl', [...args, url]);
  const [status, seconds] = r.stdout.trim().split(' ').map(Number);
  if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr.trim()}`);
  return { status: status ?? 0, seconds: seconds ?? 0 };
}

/** Scenario 6: one big raw upload to Pictor with RSS sampling. */
export async function runBigUpload(ctx: Ctx, p: Pictor, key: string, file: string, config: Record<string, string>): Promise<void> {
  const apiKey = ctx.account?.apiKey;
  if (!apiKey) return unavailable(ctx, key, 'scenario', 'big upload', 'no API key (account seeding failed)');
  const bytes = Bun.file(file).size;
  // From a settled server: growth measured from the moment it listens was its start-up's as much
  // as the upload's (waitSettled). The RSS at listen is kept in the entry.
  const atListen = sampleTree(p.pid).stop().start_rss_mib;
  await waitSettled(p.pid);
  await record(ctx, key, 'scenario', `one ${bytes / 1024 ** 2} MiB raw upload (${config.STORAGE_DRIVER ?? 'fs'}), a fresh server's first once it has settled`, null, async () => {
    const sampler = sampleTree(p.pid, 50);
    const r = await curlUpload(`${p.url}/api/files?folder=/big`, file, [`X-API-Key: ${apiKey}`, 'X-File-Name: big.txt']);
    const server = sampler.stop();
    if (r.status !== 201) throw new Error(`upload answered ${r.status}`);
    return { server, extra: { mib: bytes / 1024 ** 2, mb_per_s: Math.round((bytes / 1e6 / r.seconds) * 10) / 10, seconds: r.seconds, rss_growth_mib: server.rss_growth_mib, peak_rss_mib: server.peak_rss_mib, rss_at_listen_mib: atListen, rss_settled_mib: server.start_rss_mib } };
  }, config);
}

/**
 * Scenario 6 against its baseline by `bench/upload.ts`'s method, the one `bash bench/upload.sh`
 * reports: a Pictor of its own (embedded defaults, fs) and the fsync sink, one warm-up upload
 * each, then `rounds` rounds in rotated order, every upload removed right after it is measured.
 * A single upload to each server, one after the other, measured this VM's memory more than
 * either server: 0.32–0.37 in the quick runs of 2026-12-04/05 against 0.73–1.03 this way
 * (docs/TUNING.md, "Storage").
 */
export async function runUploadRounds(ctx: Ctx, rounds: number): Promise<void> {
  const bytes = ctx.s.bigUploadBytes;
  const mib = bytes / 1024 ** 2;
  // Without STORAGE: a developer's STORAGE=s3 would make upload.ts store to MinIO, and this row is the fs one.
  const { STORAGE: _storage, ...env } = process.env;
  const r = await runCommand(process.execPath, [join(ROOT, 'bench/upload.ts'), String(bytes)], {
    cwd: ROOT, env: { ...env, ROUNDS: String(rounds), SMALL: '0' },
  });
  const m = /median of \d+: baseline \(fsync\) ([\d.]+) MB\/s, pictor ([\d.]+) MB\/s.*pictor max RSS growth ([\d.]+) MiB/.exec(r.stdout);
  if (!m) {
    const why = `bench/upload.ts exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
    unavailable(ctx, 'upload_big_fs', 'scenario', 'big upload', why);
    return unavailable(ctx, 'upload_sink', 'baseline', 'raw stream-to-disk', why);
  }
  const how = `median of ${rounds} after a warm-up each, order rotated, each upload removed once measured (bench/upload.ts)`;
  ctx.entries.upload_big_fs = { title: `one ${mib} MiB raw upload to Pictor (fs, embedded defaults), ${how}`, kind: 'scenario', available: true, extra: { mib, mb_per_s: Number(m[2]), rss_growth_mib: Number(m[3]), rounds } };
  ctx.entries.upload_sink = { title: `minimal Bun server streaming the body to disk with fsync, ${how}`, kind: 'baseline', available: true, extra: { mib, mb_per_s: Number(m[1]), rounds } };
  console.log(`  upload_big_fs: ${m[2]} MB/s, RSS growth at most ${m[3]} MiB; upload_sink: ${m[1]} MB/s (median of ${rounds})`);
}

/**
 * The second S3 baseline: the same file sent by curl to a minimal server that passes the body to
 * MinIO (bench/baselines/s3-hop-server.ts). The plain baseline has no HTTP hop: no client
 * sending over loopback, no server receiving, on the same cores as MinIO. This one pays exactly
 * that hop and nothing of Pictor's work, so Pictor against it is Pictor's own cost
 * (docs/TUNING.md, "Storage").
 */
export async function runS3HopBaseline(ctx: Ctx, key: string, file: string, hop: Baseline): Promise<void> {
  const bytes = Bun.file(file).size;
  await record(ctx, key, 'baseline', 'minimal server passing the body to the same MinIO (Bun S3 client, same part size), curl', null, async () => {
    const sampler = sampleTree(hop.pid, 50);
    const r = await curlUpload(`${hop.url}/`, file, []);
    const server = sampler.stop();
    if (r.status !== 201) throw new Error(`the pass-through server answered ${r.status}`);
    return { server, extra: { mib: bytes / 1024 ** 2, mb_per_s: Math.round((bytes / 1e6 / r.seconds) * 10) / 10, seconds: r.seconds } };
  });
}

/**
 * Baseline for the S3 upload: the same file as a plain multipart upload to the same MinIO with
 * Bun's client and Pictor's part size (bench/baselines/s3-plain.ts), in its own process.
 */
export async function runS3PlainBaseline(ctx: Ctx, key: string, file: string, s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string }): Promise<void> {
  await record(ctx, key, 'baseline', 'plain multipart upload to the same MinIO (Bun S3 client, same part size)', null, async () => {
    const r = await runCommand(process.execPath, [join(ROOT, 'bench/baselines/s3-plain.ts'), file, s3.endpoint, s3.bucket, s3.accessKeyId, s3.secretAccessKey], { cwd: ROOT });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`s3-plain.ts exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    const j = JSON.parse(line) as { seconds: number; mb_per_s: number; rss_growth_mib: number };
    return { extra: { mib: Bun.file(file).size / 1024 ** 2, mb_per_s: j.mb_per_s, seconds: Math.round(j.seconds * 100) / 100, rss_growth_mib: j.rss_growth_mib } };
  });
}

