/**
 * Account export (issue #25): `POST /api/account/export` records an export and enqueues its
 * `account_export` job in one transaction; the job streams a ZIP of every live original plus
 * `manifest.json` (account, settings, folders, files, API keys' metadata — never a secret) straight
 * into storage. Nothing is ever whole in memory: files are read a page at a time in key order,
 * each entry's bytes flow from `storage.get` through client-zip (stored entries, ZIP64 when
 * needed, CRC computed on the way) into `storage.put`, and the manifest is generated as a stream
 * page by page. The result is downloadable once through a signed link (HMAC over id and expiry
 * with `SIGNING_SECRETS`; export-download.ts). An export whose job was cancelled, deleted or
 * failed for good is settled from the job's row (export-settle.ts).
 */
import { and, asc, count, desc, eq, gt, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { makeZip } from 'client-zip';
import { collectGarbageNow } from '../../platform/memory';
import type { AppDeps } from '../../deps';
import { conflict, notFound } from '../../errors';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../lib/cursors';
import { enqueueJob } from '../queue/enqueue';
import { getWatermarkSettings } from '../transform/watermarks';
import { getSettings } from '../users/settings';
import type { JobContext } from '../queue/runner';
import { files, type FileRow } from '../files/table';
import { folders } from '../folders/table';
import { apiKeys } from '../keys/table';
import { users } from '../users/table';
import { signPayload } from '../transform/sign';
import { settleOrphanedExports } from './export-settle';
import { accountDeletions, accountExports, type AccountExportRow } from './table';

export const EXPORT_JOB = 'account_export';
/** How long a finished export waits for its download. */
export const EXPORT_TTL_MS = 24 * 3_600_000;
/** Files read per query while building (memory stays bounded whatever the account holds). */
const PAGE = 200;

/** Where an export's archive is stored (derived: a job killed before recording it left one no row named). */
export const exportKey = (userId: string, id: string) => `exports/${userId}/${id}.zip`;

/** The export's status object (API and tests). `download_url` only while it can be downloaded. */
export function toExportJson(deps: AppDeps, e: AccountExportRow) {
  const expires = Math.floor(e.expiresAt.getTime() / 1000);
  return {
    id: e.id,
    user_id: e.userId,
    status: e.status,
    job_id: e.jobId,
    size: e.size,
    files_count: e.filesCount,
    error: e.error,
    created_at: e.createdAt.toISOString(),
    finished_at: e.finishedAt?.toISOString() ?? null,
    downloaded_at: e.downloadedAt?.toISOString() ?? null,
    expires_at: e.expiresAt.toISOString(),
    download_url: e.status === 'ready' && e.expiresAt.getTime() > deps.clock.now()
      ? `${deps.config.publicUrl}/api/account/exports/${e.id}/download?expires=${expires}&signature=${signExport(deps, e.id, expires)}`
      : null,
  };
}

export const exportPayload = (id: string, expires: number) => `account-export:${id}:${expires}`;
const signExport = (deps: AppDeps, id: string, expires: number) => signPayload(deps.secrets.signingSecrets[0] as string, exportPayload(id, expires));

/** Records an export of `userId` (asked by `requestedBy`) and enqueues its job; one unfinished export per account at a time. */
export async function requestExport(deps: AppDeps, userId: string, requestedBy: string): Promise<AccountExportRow> {
  const row = await deps.db.transaction(async (tx) => {
    // The account row's lock serialises two requests of one account (`no key update`: not with
    // inserts that refer to the account, see requestDeletion).
    const [u] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update');
    if (!u) throw notFound('Account');
    const [leaving] = await tx.select({ id: accountDeletions.id }).from(accountDeletions)
      .where(and(eq(accountDeletions.userId, userId), inArray(accountDeletions.status, ['pending', 'running'])));
    if (leaving) throw conflict('This account is being deleted.');
    // An export whose job was cancelled, deleted or failed for good will never be built: settled
    // first, so it does not hold the account's one export slot until it expires.
    await settleOrphanedExports(tx, eq(accountExports.userId, userId), new Date(deps.clock.now()));
    // One archive at a time: each is a full copy of the account's originals in shared storage.
    const [open] = await tx.select({ status: accountExports.status }).from(accountExports)
      .where(and(eq(accountExports.userId, userId), inArray(accountExports.status, ['pending', 'running', 'ready']), gt(accountExports.expiresAt, new Date(deps.clock.now()))));
    if (open) {
      throw conflict(open.status === 'ready'
        ? 'An export of this account is ready: download it (GET /api/account/exports lists it) before asking for another.'
        : 'An export of this account is already being built; poll its status.');
    }
    const [created] = await tx.insert(accountExports).values({
      userId, requestedBy: requestedBy === userId ? null : requestedBy, expiresAt: new Date(deps.clock.now() + EXPORT_TTL_MS),
    }).returning();
    const e = created as AccountExportRow;
    const job = await enqueueJob(tx, { type: EXPORT_JOB, userId, payload: { export_id: e.id }, uniqueKey: `${EXPORT_JOB}:${e.id}`, maxAttempts: 3 });
    const [withJob] = await tx.update(accountExports).set({ jobId: job?.id ?? null }).where(eq(accountExports.id, e.id)).returning();
    return withJob as AccountExportRow;
  });
  deps.queue.wake();
  return row;
}

/** One export of the account (or any, for an admin); 404 otherwise. */
export async function getExport(deps: AppDeps, id: string, userId: string | null): Promise<AccountExportRow> {
  const mine = userId ? and(eq(accountExports.id, id), eq(accountExports.userId, userId))! : eq(accountExports.id, id);
  await settleOrphanedExports(deps.db, mine, new Date(deps.clock.now()));
  const [e] = await deps.db.select().from(accountExports).where(mine);
  if (!e) throw notFound('Export');
  return e;
}

/** The account's exports, newest first, keyset-paginated on `(created_at, id)`; `count` covers all pages. */
export async function listExports(deps: AppDeps, userId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const mine = eq(accountExports.userId, userId);
  const after = q.cursor ? decodeTimeIdCursor(q.cursor) : undefined; // `cursor=` is the first page, as on every list
  await settleOrphanedExports(deps.db, mine, new Date(deps.clock.now()));
  const older = after && or(lt(accountExports.createdAt, after.at), and(eq(accountExports.createdAt, after.at), lt(accountExports.id, after.id)));
  const [rows, [total]] = await Promise.all([
    deps.db.select().from(accountExports).where(and(mine, older))
      .orderBy(desc(accountExports.createdAt), desc(accountExports.id)).limit(limit + 1),
    deps.db.select({ n: count() }).from(accountExports).where(mine),
  ]);
  const results = rows.slice(0, limit);
  const last = results.at(-1);
  return { results, count: Number(total?.n ?? 0), nextCursor: rows.length > limit && last ? encodeTimeIdCursor(last.createdAt, last.id) : null };
}

/** Live files of the account in (created_at, id) order, a page at a time. */
async function* filePages(deps: AppDeps, userId: string, cutoff: Date): AsyncGenerator<FileRow[]> {
  let after: { createdAt: Date; id: string } | null = null;
  for (;;) {
    // Files uploaded after the export began are left out of both passes (ZIP and manifest).
    const where: SQL[] = [
      eq(files.userId, userId), isNull(files.deletedAt), or(isNull(files.expiresAt), gt(files.expiresAt, cutoff))!, lte(files.createdAt, cutoff),
    ];
    if (after) where.push(sql`(${files.createdAt}, ${files.id}) > (${after.createdAt.toISOString()}::timestamptz, ${after.id})`);
    const page = await deps.db.select().from(files).where(and(...where)).orderBy(asc(files.createdAt), asc(files.id)).limit(PAGE);
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1] as FileRow;
    after = { createdAt: last.createdAt, id: last.id };
    if (page.length < PAGE) return;
  }
}

/** Where a file goes in the ZIP: its folder, then `<id>-<name>` (names repeat; ids do not). */
export const zipPathOf = (f: Pick<FileRow, 'id' | 'name' | 'folder'>) =>
  `files${f.folder === '/' ? '' : f.folder}/${f.id}-${f.name.replace(/[\\/]/g, '_')}`;

const fileEntry = (f: FileRow) => ({
  id: f.id, path: zipPathOf(f), name: f.name, folder: f.folder, content_type: f.contentType, size: f.size, sha256: f.sha256,
  width: f.width, height: f.height, is_public: f.isPublic, tags: f.tags, custom_metadata: f.customMeta,
  created_at: f.createdAt.toISOString(), expires_at: f.expiresAt?.toISOString() ?? null,
});

/** `manifest.json` as a stream of JSON text, its file list written page by page. */
async function* manifest(deps: AppDeps, userId: string, cutoff: Date): AsyncGenerator<string> {
  const [u] = await deps.db.select().from(users).where(eq(users.id, userId));
  if (!u) throw new Error('account vanished during its export');
  const keys = await deps.db.select({
    id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.keyPrefix, scopes: apiKeys.scopes, created_at: apiKeys.createdAt,
    last_used_at: apiKeys.lastUsedAt, expires_at: apiKeys.expiresAt, revoked_at: apiKeys.revokedAt,
  }).from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(asc(apiKeys.createdAt));
  const folderRows = await deps.db.select({ path: folders.path }).from(folders).where(eq(folders.userId, userId)).orderBy(asc(folders.path));
  const head = {
    format: 'pictor-account-export/1',
    exported_at: new Date(deps.clock.now()).toISOString(),
    account: { id: u.id, email: u.email, role: u.role, is_promoted: u.isPromoted, created_at: u.createdAt.toISOString() },
    // The same object as GET /api/settings: a restore (or a person) reads one shape.
    settings: { ...(await getSettings(deps.db, deps.config, userId)), ...(await getWatermarkSettings(deps, userId)) },
    usage: { storage_bytes: u.storageBytes, files_count: u.filesCount },
    // Metadata only: the key itself is never stored (only its hash), and the hash stays here too.
    api_keys: keys,
    folders: folderRows.map((f) => f.path),
  };
  const text = JSON.stringify(head, null, 2);
  yield `${text.slice(0, -2)},\n  "files": [`;
  let first = true;
  for await (const page of filePages(deps, userId, cutoff)) {
    yield page.map((f) => `${first ? ((first = false), '\n    ') : ',\n    '}${JSON.stringify(fileEntry(f))}`).join('');
  }
  yield '\n  ]\n}\n';
}

/** The ZIP's entries, in order: each file streamed from storage when client-zip reaches it, then the manifest. */
async function* entries(deps: AppDeps, userId: string, counter: { files: number }, ctx: Pick<JobContext, 'checkpoint'>) {
  const cutoff = new Date(deps.clock.now());
  for await (const page of filePages(deps, userId, cutoff)) {
    await ctx.checkpoint();
    for (const f of page) {
      const input = await deps.storage.get(f.storageKey);
      if (!input) throw new Error(`stored object of file ${f.id} is missing`);
      counter.files++;
      yield { name: zipPathOf(f), lastModified: f.createdAt, size: f.size, input };
    }
  }
  const enc = new TextEncoder();
  const text = manifest(deps, userId, cutoff);
  yield { name: 'manifest.json', lastModified: new Date(deps.clock.now()), input: (async function* () {
    for await (const s of text) yield enc.encode(s);
  })() };
}

/** A collection every this many bytes of archive (platform/memory.ts). */
const GC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Passes the archive through, collecting garbage every 4 MiB: the whole account turns over in
 * short-lived 256 KiB read chunks (and the storage driver's copies of them), which a server with
 * a large heap otherwise lets pile up (test/account/account-life.e2e.test.ts checks the RSS
 * growth). A young-generation collection was not enough (the copies are external buffers); a
 * full one is cheap at this rate (docs/TUNING.md, "Measurements behind code choices").
 */
function nudgingCollector(): TransformStream<Uint8Array, Uint8Array> {
  let size = 0;
  return new TransformStream({
    transform(chunk, c) {
      if (Math.floor((size + chunk.byteLength) / GC_EVERY_BYTES) > Math.floor(size / GC_EVERY_BYTES)) collectGarbageNow();
      size += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
}

/** The `account_export` job: builds the ZIP into storage, then marks the export ready. */
export async function buildExport(deps: AppDeps, ctx: JobContext): Promise<void> {
  const id = ctx.job.payload.export_id;
  if (typeof id !== 'string') throw new Error('account_export job without export_id');
  const [e] = await deps.db.update(accountExports).set({ status: 'running' })
    .where(and(eq(accountExports.id, id), inArray(accountExports.status, ['pending', 'running']))).returning();
  if (!e) return; // finished, failed or gone with its account
  const key = exportKey(e.userId, e.id);
  const counter = { files: 0 };
  try {
    const zip = makeZip(entries(deps, e.userId, counter, ctx)).pipeThrough(nudgingCollector());
    const stored = await deps.storage.put(key, zip, { contentType: 'application/zip' });
    const [done] = await deps.db.update(accountExports).set({
      status: 'ready', storageKey: key, size: stored.size, filesCount: counter.files, finishedAt: new Date(deps.clock.now()), error: null,
    }).where(and(eq(accountExports.id, e.id), eq(accountExports.status, 'running'))).returning({ id: accountExports.id });
    // The account was deleted while this was built (its export rows went with it): so does the archive.
    if (!done) {
      await deps.storage.delete(key);
      return;
    }
    ctx.log.info({ export_id: e.id, files: counter.files, bytes: stored.size }, 'account export built');
  } catch (err) {
    if (ctx.signal.aborted) {
      // Cancelled through the API: the export says so at once (the job ends `cancelled`). A
      // shutdown or a lost lease hands the job back to the queue: the export stays unfinished.
      if (ctx.signal.reason === 'cancel') {
        await deps.db.update(accountExports).set({ status: 'cancelled', error: 'Its job was cancelled before the archive was built; ask for a new export.', finishedAt: new Date(deps.clock.now()) })
          .where(and(eq(accountExports.id, e.id), eq(accountExports.status, 'running')));
      }
      throw err;
    }
    // The last attempt records why; earlier ones are retried by the queue.
    if (ctx.job.attempts >= ctx.job.maxAttempts) {
      await deps.db.update(accountExports).set({ status: 'failed', error: (err as Error).message, finishedAt: new Date(deps.clock.now()) })
        .where(eq(accountExports.id, e.id));
    }
    throw err;
  }
}

/**
 * Exports past their expiry lose their object (the hourly prune); returns how many. Every
 * status: one still `running` then had its process die on its last attempt. Without a recorded
 * key, the derived one: a job killed after storing the archive, before the row said so, left an
 * archive the row did not name.
 */
export async function expireExports(deps: AppDeps): Promise<number> {
  const now = new Date(deps.clock.now());
  const rows = await deps.db.select().from(accountExports).where(lt(accountExports.expiresAt, now)).limit(500);
  for (const e of rows) {
    await deps.storage.delete(e.storageKey ?? exportKey(e.userId, e.id));
    await deps.db.delete(accountExports).where(eq(accountExports.id, e.id));
  }
  return rows.length;
}
