/**
 * Bench data: corpus photos (from ../shared/corpus when present, else generated with sharp),
 * a 200 KB upload payload, a 1 GiB upload payload, an account with a password and an API key,
 * and 100 000 file rows inserted in one SQL statement (the list scenario needs the rows, not bytes).
 */
import { sql } from 'drizzle-orm';
import { existsSync, readdirSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import sharp from 'sharp';
import { openDatabase } from '../../src/db/client';
import { createApiKey } from '../../src/modules/keys/service';
import { users } from '../../src/modules/users/table';
import { ROOT } from './pictor';

export interface CorpusImage {
  path: string;
  name: string;
}

/** Corpus photos: the shared corpus (or BENCH_CORPUS_DIR) when present, otherwise `count` generated photos. */
export async function prepareCorpus(workDir: string, count = 6): Promise<{ images: CorpusImage[]; source: string }> {
  const shared = process.env.BENCH_CORPUS_DIR ?? join(ROOT, '..', 'shared', 'corpus');
  if (existsSync(shared)) {
    const images = readdirSync(shared)
      .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
      .sort()
      .map((name) => ({ path: join(shared, name), name }));
    if (images.length) return { images, source: shared };
  }
  const images: CorpusImage[] = [];
  for (let i = 0; i < count; i++) {
    const name = `generated-${i}.jpg`;
    const path = join(workDir, name);
    await photoLike(1800 + i * 160, 1200 + i * 90, i).jpeg({ quality: 88 }).toFile(path);
    images.push({ path, name });
  }
  return { images, source: 'generated with sharp' };
}

/** Blurred noise: compresses like a photo (a flat image would flatter every encoder). */
function photoLike(width: number, height: number, seed: number): ReturnType<typeof sharp> {
  return sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 110 + seed * 8, sigma: 45 } } }).blur(1.2);
}

/** A JPEG of about `targetBytes` (default 200 KB), the small-upload payload. */
export async function makeUploadJpeg(workDir: string, targetBytes = 200_000): Promise<{ path: string; bytes: number }> {
  let side = 400;
  let buf = Buffer.alloc(0);
  for (let i = 0; i < 8; i++) {
    buf = await sharp({ create: { width: side, height: side, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } }).jpeg({ quality: 80 }).toBuffer();
    if (Math.abs(buf.byteLength - targetBytes) < targetBytes * 0.1) break;
    side = Math.round(side * Math.sqrt(targetBytes / buf.byteLength));
  }
  const path = join(workDir, 'upload-200k.jpg');
  await writeFile(path, buf);
  return { path, bytes: buf.byteLength };
}

/**
 * The payloads of the image/non-image upload pair (bench/k6/upload-distinct.js): the 200 KB JPEG
 * with a 16-byte COM segment right after SOI (still a valid JPEG), and a text file of the same
 * length; each has its 16-byte slot at `slot`, which the script overwrites per request.
 */
export async function makeDistinctPayloads(workDir: string, jpegPath: string): Promise<{ jpeg: string; text: string; jpegSlot: number; textSlot: number; bytes: number }> {
  const src = new Uint8Array(await Bun.file(jpegPath).arrayBuffer());
  const com = new Uint8Array([0xff, 0xfe, 0x00, 0x12, ...new Uint8Array(16).fill(0x2e)]);
  const jpeg = new Uint8Array(src.byteLength + com.byteLength);
  jpeg.set(src.subarray(0, 2));
  jpeg.set(com, 2);
  jpeg.set(src.subarray(2), 2 + com.byteLength);
  const text = new TextEncoder().encode('Pictor upload payload. '.repeat(Math.ceil(jpeg.byteLength / 23)).slice(0, jpeg.byteLength));
  const paths = { jpeg: join(workDir, 'upload-distinct.jpg'), text: join(workDir, 'upload-distinct.txt') };
  await writeFile(paths.jpeg, jpeg);
  await writeFile(paths.text, text);
  return { ...paths, jpegSlot: 6, textSlot: 0, bytes: jpeg.byteLength };
}

/**
 * A `bytes`-long upload payload: 64 KiB of text (so it sniffs as text/plain) and then a sparse
 * hole of zeros, which costs no disk to create or to read — the client stays cheap and
 * the server's write path is what gets measured. Pictor stores it byte-exact like any file.
 */
export async function makeBigFile(workDir: string, bytes: number): Promise<string> {
  const path = join(workDir, `big-${bytes}.txt`);
  const line = 'Pictor benchmark payload line: the quick brown fox jumps over the lazy dog 0123456789.\n';
  const head = Buffer.from(line.repeat(Math.ceil(65536 / line.length)).slice(0, Math.min(65536, bytes)));
  const fh = await open(path, 'w');
  try {
    await fh.write(head, 0, head.byteLength, 0);
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
  return path;
}

export interface Account {
  email: string;
  password: string;
  apiKey: string;
  userId: string;
  /** How the account was made: registered through the API, or the bootstrap admin as fallback. */
  via: 'register' | 'bootstrap';
}

/** Registers a bench account and creates an API key through the API; falls back to the bootstrap admin. */
export async function seedAccount(base: string, bootstrap?: { email: string; initial_password: string; api_key: string }): Promise<Account> {
  const email = `bench-${Date.now().toString(36)}@example.com`;
  const password = 'bench-password-1234';
  try {
    const reg = await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (reg.status !== 201) throw new Error(`register → ${reg.status} ${await reg.text()}`);
    const r = (await reg.json()) as { user: { id: string }; session?: { access_token: string } };
    if (!r.session) throw new Error('register returned no session (email verification on?)');
    const key = await fetch(`${base}/api/auth/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${r.session.access_token}` },
      body: JSON.stringify({ name: 'bench' }),
    });
    if (key.status !== 201) throw new Error(`api key → ${key.status} ${await key.text()}`);
    return { email, password, apiKey: ((await key.json()) as { key: string }).key, userId: r.user.id, via: 'register' };
  } catch (err) {
    if (!bootstrap) throw err;
    const me = await fetch(`${base}/api/profile`, { headers: { 'x-api-key': bootstrap.api_key } });
    const id = me.ok ? ((await me.json()) as { user: { id: string } }).user.id : '';
    console.warn(`  (registration path unavailable: ${(err as Error).message}; using the bootstrap admin)`);
    return { email: bootstrap.email, password: bootstrap.initial_password, apiKey: bootstrap.api_key, userId: id, via: 'bootstrap' };
  }
}

/** Uploads each corpus photo (multipart, API key), two at a time, and returns the file ids in corpus order. */
export async function uploadCorpus(base: string, apiKey: string, images: CorpusImage[]): Promise<string[]> {
  const ids: string[] = new Array(images.length);
  let next = 0;
  const worker = async () => {
    while (next < images.length) {
      const i = next++;
      const img = images[i]!;
      const form = new FormData();
      form.append('file', Bun.file(img.path), img.name);
      form.append('folder', '/corpus');
      const res = await fetch(`${base}/api/files`, { method: 'POST', headers: { 'x-api-key': apiKey }, body: form, signal: AbortSignal.timeout(60_000) });
      if (res.status !== 201) throw new Error(`upload of ${img.name} → ${res.status} ${await res.text()}`);
      ids[i] = ((await res.json()) as { file: { id: string } }).file.id;
    }
  };
  await Promise.all([worker(), worker()]);
  return ids;
}

/** One INSERT … SELECT generate_series: `n` rows for `userId`, newest-first order spread over a day. */
const INSERT_ROWS = (n: number) => `
  insert into files (id, user_id, name, folder, content_type, size, sha256, width, height, is_public, storage_key, created_at, updated_at)
  select 'bench' || lpad(g::text, 7, '0'), $1::uuid, 'photo-' || g || '.jpg', '/bulk/' || (g % 50), 'image/jpeg', 200000,
         repeat('0', 64), 800, 600, true, 'bench-missing/' || g, now() - (g || ' seconds')::interval, now()
  from generate_series(1, ${n}) g`;

/** Inserts the rows into Postgres and updates the owner's counters (quota stays exact). */
export async function insertFileRowsPostgres(url: string, userId: string, n: number): Promise<void> {
  const sqlc = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sqlc.unsafe(INSERT_ROWS(n), [userId]);
    await sqlc.unsafe('update users set files_count = files_count + $2, storage_bytes = storage_bytes + $2::bigint * 200000 where id = $1', [userId, n]);
    await sqlc.unsafe('analyze files');
  } finally {
    await sqlc.end();
  }
}

/**
 * Seeds an embedded database directory without a server start (PGlite is single-process):
 * migrates it with the app's own `openDatabase`, adds an account with the app's own
 * `createApiKey`, and inserts the rows. The server started on it afterwards finds it ready.
 */
export function seedPglite(dir: string, n: number): Promise<{ userId: string; apiKey: string }> {
  return seedDatabase({ pgliteDir: dir }, n);
}

/** `seedPglite` for either database: a PGlite directory, or an empty Postgres database's URL. */
export async function seedDatabase(opts: { pgliteDir: string } | { url: string }, n: number): Promise<{ userId: string; apiKey: string }> {
  const database = await openDatabase(opts);
  try {
    const [user] = await database.db
      .insert(users)
      .values({ email: 'bench-pglite@example.com', passwordHash: 'no-password: list benchmark account', emailVerified: true })
      .returning();
    if (!user) throw new Error('could not create the bench account');
    const { key } = await createApiKey(database.db, user.id, { name: 'bench' });
    // The id comes from the database (a uuid), so inlining it is safe.
    await database.db.execute(sql.raw(INSERT_ROWS(n).replace('$1::uuid', `'${user.id}'::uuid`)));
    await database.db.execute(sql.raw(`update users set files_count = files_count + ${n}, storage_bytes = storage_bytes + ${n}::bigint * 200000 where id = '${user.id}'`));
    await database.db.execute(sql.raw('analyze files'));
    return { userId: user.id, apiKey: key };
  } finally {
    await database.close();
  }
}
