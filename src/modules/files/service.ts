/**
 * Files API logic (API.md §4): lookups that never reveal other accounts' files, keyset-paged
 * listing with filters and a total count, patch, and soft delete that releases the usage
 * counters in the same transaction and leaves the bytes to the purge (purge.ts).
 */
import { and, eq, gt, ilike, inArray, isNotNull, isNull, like, lte, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { gone, notFound, validationError } from '../../errors';
import { closestName } from '../../lib/suggest';
import { CONTENT_TYPES, contentTypeInfo } from '../reference/content-types';
import { users } from '../users/table';
import { ensureFolders, lockFolderTree } from '../folders/ancestors';
import { cursorText, invalidCursor } from '../../lib/cursors';
import { isStorableTime, parseFutureTime } from '../../lib/dates';
import { normalizeFolder, sanitizeName } from './names';
import { files, type FileRow } from './table';
import { forgetFiles } from './invalidate';
import { enqueuePurge } from './enqueue';
import { emitFileRemovals } from '../webhooks/emit';
import { refuseWatermarkDeletes } from '../transform/watermarks';
import { checkMeta, parseTags, tagMetaFilters } from './tags';
import { pageColumns, pageFrom, preparedList, type PageRow } from './list-query';
import { escapeLike } from '../../lib/sql-like';
import { actsAsAdmin, type Principal } from '../auth/guard';

/**
 * The base of the URLs of one account's files: its `public_url_base` setting, else `PUBLIC_URL`
 * (API.md §3). One primary-key read; callers read it once per request, not per file.
 */
export async function urlBaseOf(deps: AppDeps, userId: string): Promise<string> {
  const [u] = await deps.db.select({ base: users.publicUrlBase }).from(users).where(eq(users.id, userId)).limit(1);
  return u?.base ?? deps.config.publicUrl;
}

/** What a file's JSON is made of (list pages write the same object in SQL: list-query.ts). */
export type FileView = Pick<FileRow, 'id' | 'name' | 'folder' | 'contentType' | 'size' | 'sha256' | 'width' | 'height' | 'isPublic' | 'meta' | 'tags' | 'customMeta' | 'createdAt' | 'expiresAt'>;

/** The API.md §4 file object; `base` is the owner's URL base (`urlBaseOf`). */
export function toFileJson(f: FileView, base: string) {
  const ext = contentTypeInfo(f.contentType)?.extensions[0];
  return {
    id: f.id,
    name: f.name,
    folder: f.folder,
    content_type: f.contentType,
    size: f.size,
    sha256: f.sha256,
    width: f.width,
    height: f.height,
    duration_s: typeof f.meta?.duration_s === 'number' ? f.meta.duration_s : null,
    // From the cached metadata (computed by the upload's `derive` job): no query per file.
    blurhash: typeof f.meta?.blurhash === 'string' ? f.meta.blurhash : null,
    dominant_color: typeof f.meta?.dominant_color === 'string' ? f.meta.dominant_color : null,
    is_public: f.isPublic,
    url: `${base}/i/${f.id}${ext ? `.${ext}` : ''}`,
    download_url: `${base}/d/${f.id}`,
    transform_url: `${base}/t/{transformations}/${f.id}`,
    view_url: `${base}/v/${f.id}`,
    tags: f.tags ?? [],
    custom_metadata: f.customMeta ?? {},
    created_at: f.createdAt.toISOString(),
    expires_at: f.expiresAt?.toISOString() ?? null,
  };
}
export type FileJson = ReturnType<typeof toFileJson>;

export const isExpired = (f: Pick<FileRow, 'expiresAt'>, now: number): boolean => f.expiresAt !== null && f.expiresAt.getTime() <= now;

/** Who acts on a file: its owner, or an admin, who may act on anyone's. */
export type FileActor = Pick<Principal, 'userId' | 'role' | 'scopes'>;

/**
 * A live file the actor may manage (its own; any for an admin with the `admin` scope), with its owner's URL base
 * (`public_url_base`, else `PUBLIC_URL`); 404 for missing, deleted or someone else's.
 */
export async function getManagedFileOrThrow(deps: AppDeps, actor: FileActor, id: string) {
  const [row] = await deps.db
    .select({ id: files.id, userId: files.userId, contentType: files.contentType, sha256: files.sha256, expiresAt: files.expiresAt, base: users.publicUrlBase })
    .from(files)
    .innerJoin(users, eq(users.id, files.userId))
    .where(and(eq(files.id, id), isNull(files.deletedAt)))
    .limit(1);
  if (!row || (row.userId !== actor.userId && !actsAsAdmin(actor))) throw notFound('File');
  return { id: row.id, userId: row.userId, contentType: row.contentType, sha256: row.sha256, expiresAt: row.expiresAt, urlBase: row.base ?? deps.config.publicUrl };
}

/** `getManagedFileOrThrow` for several ids in one query: the ones the actor may manage (others are left out). */
export async function getManagedFiles(deps: AppDeps, actor: FileActor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const rows = await deps.db
    .select({ id: files.id, userId: files.userId, contentType: files.contentType, expiresAt: files.expiresAt, base: users.publicUrlBase })
    .from(files)
    .innerJoin(users, eq(users.id, files.userId))
    .where(and(inArray(files.id, [...ids]), isNull(files.deletedAt)));
  return rows
    .filter((row) => row.userId === actor.userId || actsAsAdmin(actor))
    .map((row) => ({ id: row.id, contentType: row.contentType, expiresAt: row.expiresAt, urlBase: row.base ?? deps.config.publicUrl }));
}

/** A live file of this owner; 404 for missing, deleted or someone else's, 410 when expired. */
export async function getOwnFileOrThrow(deps: AppDeps, userId: string, id: string): Promise<FileRow> {
  const [f] = await deps.db.select().from(files).where(and(eq(files.id, id), eq(files.userId, userId), isNull(files.deletedAt)));
  if (!f) throw notFound('File');
  if (isExpired(f, deps.clock.now())) throw gone('This file has expired.');
  return f;
}

export interface ListQuery {
  folder?: string;
  recursive?: boolean;
  q?: string;
  content_type?: string;
  is_public?: boolean;
  sha256?: string;
  /** Parsed by Elysia; the values are read again from the URL (`tagFilter`/`metaFilter`): a `meta` value may hold commas. */
  tag?: string[];
  meta?: string[];
  sort?: 'created_at' | '-created_at' | 'name' | '-name' | 'size' | '-size';
  limit?: number;
  cursor?: string;
}

const SORT_COLUMNS = { created_at: files.createdAt, name: files.name, size: files.size } as const;

const notThisSort = () => invalidCursor('not a cursor for this sort', 'Invalid cursor: it was made for another sort; start again without cursor.');

/**
 * A cursor is `[key value, id, sort]`: the sort it was made under is checked, since a cursor of
 * another sort read as this one's gave a wrong page without a word. Cursors made before they
 * carried it (`[value, id]`) are taken as they were. JSON's `\u0000` decodes to a NUL that no
 * stored name or id holds and Postgres refuses in text (a 500): refused here.
 */
function decodeCursor(cursor: string, sort: string): [string | number, string] {
  let v: unknown;
  try {
    v = JSON.parse(cursorText(cursor)) as unknown;
  } catch { /* refused below */ }
  if (Array.isArray(v) && (v.length === 2 || v.length === 3) && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'string'
    && !(typeof v[0] === 'string' && v[0].includes('\0')) && !v[1].includes('\0')) {
    if (v.length === 3 && v[2] !== sort) throw notThisSort();
    return [v[0], v[1]];
  }
  throw invalidCursor('not a cursor from next_cursor', 'Invalid cursor.');
}

const encodeCursor = (value: string | number, id: string, sort: string) => Buffer.from(JSON.stringify([value, id, sort])).toString('base64url');

/** Whether a list query narrows the owner's live files (then `count` needs a query of its own). */
const isFiltered = (q: ListQuery): boolean =>
  (q.folder !== undefined && !(q.recursive && normalizeFolder(q.folder) === '/'))
  || !!q.q || !!q.content_type || q.is_public !== undefined || !!q.sha256 || !!q.tag?.length || !!q.meta?.length;

/**
 * The total for `count`. Unfiltered, it is the owner's `files_count` (kept exact in the same
 * transactions that insert and soft-delete rows, so it counts `deleted_at is null`) minus the
 * expired files the sweep has not soft-deleted yet (the list hides them at once) — an index
 * probe instead of counting every row. Filtered, a count over the owner's index range.
 */
async function countFiles(deps: AppDeps, userId: string, filters: SQL[], filtered: boolean, now: Date): Promise<number> {
  if (filtered) {
    const [row] = await deps.db.select({ n: sql<number>`count(*)::int` }).from(files).where(and(...filters));
    return row?.n ?? 0;
  }
  const expiredLive = deps.db.select({ n: sql<number>`count(*)::int` }).from(files)
    .where(and(eq(files.userId, userId), isNull(files.deletedAt), isNotNull(files.expiresAt), lte(files.expiresAt, now)));
  const [row] = await deps.db.select({ n: sql<number>`greatest(${users.filesCount} - (${expiredLive}), 0)::int` })
    .from(users).where(eq(users.id, userId));
  return row?.n ?? 0;
}

/** A cursor's time as the database reads it; 400 for one no list made (a year the database refuses was a 500). */
function cursorTime(v: unknown): string {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!isStorableTime(t)) throw notThisSort();
  return new Date(t).toISOString();
}

/** A `created_at` cursor's values (400 when it is no such cursor). */
function createdAtCursor(cursor: string): { at: string; id: string } {
  const [v, id] = decodeCursor(cursor, '-created_at');
  return { at: cursorTime(v), id };
}

/** The keyset condition: a row comparison, so the (user_id, key, id) index bounds the scan. */
function afterCursor(key: keyof typeof SORT_COLUMNS, descending: boolean, cursor: string): SQL {
  const [v, id] = decodeCursor(cursor, `${descending ? '-' : ''}${key}`);
  if (key === 'size' && !Number.isSafeInteger(v)) throw notThisSort();
  const col = SORT_COLUMNS[key];
  const value = key === 'created_at' ? sql`${cursorTime(v)}::timestamptz`
    : key === 'size' ? sql`${Number(v)}::bigint` : sql`${String(v)}::text`;
  return descending ? sql`(${col}, ${files.id}) < (${value}, ${id})` : sql`(${col}, ${files.id}) > (${value}, ${id})`;
}

/** The conditions of a list query: the owner's live files, narrowed by the query's filters. */
/**
 * A `content_type` filter names a type Pictor stores or a family of them (`image/*`): anything
 * else (`image`, `foo`) could match nothing, and answered an empty page as if there were no such files.
 */
function listedType(raw: string): string {
  const type = raw.trim().toLowerCase();
  const known = type.endsWith('/*') ? CONTENT_TYPES.some((c) => c.mime.startsWith(type.slice(0, -1))) : CONTENT_TYPES.some((c) => c.mime === type);
  if (known) return type;
  const near = closestName(type, [...new Set(CONTENT_TYPES.flatMap((c) => [c.mime, `${c.mime.split('/')[0]}/*`]))]);
  const message = `is not a type Pictor stores, nor a family such as image/*${near ? ` (did you mean ${near}?)` : ''}`;
  throw validationError(`content_type ${message}.`, [{ path: '/content_type', message }]);
}

function listFilters(userId: string, q: ListQuery, raw: { tag: string[]; meta: string[] } | undefined, now: Date): SQL[] {
  const filters: SQL[] = [
    eq(files.userId, userId),
    isNull(files.deletedAt),
    or(isNull(files.expiresAt), gt(files.expiresAt, now))!,
  ];
  if (q.folder !== undefined) {
    const folder = normalizeFolder(q.folder);
    filters.push(q.recursive
      ? (folder === '/' ? sql`true` : or(eq(files.folder, folder), like(files.folder, `${escapeLike(folder)}/%`))!)
      : eq(files.folder, folder));
  }
  // Every word, anywhere in the name, in any order: "photo 03" finds photo-03.jpg (it looked for
  // the words with their space); at most 128 words fit in q's 255 characters. Names use spaces,
  // `-` and `_` alike: inside a word `-` and `_` match any one character, the parts side by side.
  if (q.q) for (const word of q.q.split(/\s+/).filter(Boolean)) filters.push(ilike(files.name, `%${escapeLike(word).replace(/-|\\_/g, '_')}%`));
  if (q.content_type) {
    const type = listedType(q.content_type);
    filters.push(type.endsWith('/*') ? like(files.contentType, `${escapeLike(type.slice(0, -1))}%`) : eq(files.contentType, type));
  }
  if (q.is_public !== undefined) filters.push(eq(files.isPublic, q.is_public));
  if (q.sha256) filters.push(eq(files.sha256, q.sha256.toLowerCase()));
  const tagged = tagMetaFilters(raw?.tag ?? q.tag ?? [], raw?.meta ?? q.meta ?? []);
  if (tagged) filters.push(tagged);
  return filters;
}

/**
 * Lists the owner's live files with keyset pagination; `count` is the total over all pages. The
 * answer's JSON text: the database writes the files' part (list-query.ts).
 */
export async function listFiles(deps: AppDeps, userId: string, q: ListQuery, raw?: { tag: string[]; meta: string[] }): Promise<string> {
  const now = new Date(deps.clock.now());
  const sort = q.sort ?? '-created_at';
  const descending = sort.startsWith('-');
  const key = sort.replace(/^-/, '') as keyof typeof SORT_COLUMNS;
  const limit = q.limit ?? 50;
  let page: PageRow | undefined;
  let total: number;
  if (sort === '-created_at' && !isFiltered(q)) {
    // The default page: one prepared statement (list-query.ts), the same answer as below.
    const p = preparedList(deps.db);
    const cursor = q.cursor ? createdAtCursor(q.cursor) : null;
    // Placeholders are not mapped by column: the drivers get text.
    const params = { user: userId, now: now.toISOString(), limit, base: deps.config.publicUrl };
    const [row] = cursor ? await p.after.execute({ ...params, ...cursor }) : await p.first.execute(params);
    page = row;
    total = row?.count ?? 0;
  } else {
    const filters = listFilters(userId, q, raw, now);
    const where = q.cursor ? [...filters, afterCursor(key, descending, q.cursor)] : filters;
    const [[row], counted] = await Promise.all([
      deps.db.select(pageColumns).from(pageFrom(and(...where), { key: SORT_COLUMNS[key], descending }, sql`${limit}`, sql`${userId}::uuid`, sql`${deps.config.publicUrl}`)),
      countFiles(deps, userId, filters, isFiltered(q), now),
    ]);
    page = row;
    total = counted;
  }
  const next = page?.more && page.lastKey !== null && page.lastId !== null
    ? encodeCursor(key === 'size' ? Number(page.lastKey) : page.lastKey, page.lastId, sort)
    : null;
  return `{"results":${page?.files ?? '[]'},"count":${total},"next_cursor":${next === null ? 'null' : `"${next}"`}}`;
}

export interface FilePatch {
  name?: string;
  folder?: string;
  is_public?: boolean;
  tags?: string[];
  /** Checked here (checkMeta), as sent. */
  custom_metadata?: unknown;
  expires_at?: string | null;
}

/**
 * A rename is kept as given, or refused: `a/b.png` became `b.png`, `.hidden` `hidden`, and `..`
 * or a blank name changed nothing, each with a 200 (an upload's name, which a browser or tool
 * chose, is still made safe without a word).
 */
function renameTo(raw: string): string {
  const given = raw.normalize('NFC').trim();
  const safe = sanitizeName(raw, '');
  if (safe !== '' && safe === given) return safe;
  const message = safe === ''
    ? 'is not a usable file name: nothing is left once slashes, leading dots and invisible characters are taken out'
    : `must not hold / or \\, begin with a dot, hold .. or invisible characters (it would be stored as ${JSON.stringify(safe)})`;
  throw validationError(`The name ${message}.`, [{ path: '/name', message }]);
}

export async function patchFile(deps: AppDeps, userId: string, id: string, patch: FilePatch): Promise<FileRow> {
  await getOwnFileOrThrow(deps, userId, id); // 404 for a file that is not the caller's
  const set: Partial<FileRow> = { updatedAt: new Date(deps.clock.now()) };
  if (patch.name !== undefined) set.name = renameTo(patch.name);
  if (patch.folder !== undefined) set.folder = normalizeFolder(patch.folder, 'folder', true);
  if (patch.is_public !== undefined) set.isPublic = patch.is_public;
  if (patch.tags !== undefined) set.tags = parseTags(patch.tags, '/tags', true);
  if (patch.custom_metadata !== undefined) set.customMeta = checkMeta(patch.custom_metadata);
  if (patch.expires_at !== undefined) {
    if (patch.expires_at === null) set.expiresAt = null;
    else {
      set.expiresAt = parseFutureTime(patch.expires_at, 'expires_at', deps.clock.now()); // ≤ 100 years ahead; to end a file now, DELETE it
      // A watermark's image that expired would break every render that draws it, as deleting it would.
      await refuseWatermarkDeletes(deps.db, userId, [id], 'giving it an expiry');
    }
  }
  const updated = await deps.db.transaction(async (tx) => {
    if (set.folder) {
      await lockFolderTree(tx, userId);
      await ensureFolders(tx, userId, set.folder);
    }
    const [row] = await tx.update(files).set(set).where(and(eq(files.id, id), eq(files.userId, userId), isNull(files.deletedAt))).returning();
    if (!row) throw notFound('File');
    return row;
  });
  // Visibility, expiry and name decide delivery: every instance's lookup cache forgets the old state.
  await forgetFiles(deps, [id]);
  return updated;
}

/**
 * Marks files deleted, releases their usage and enqueues their `purge` jobs in one transaction
 * (the caller's); returns the ids that were live. The purge job removes the bytes and is
 * retried by the queue until storage confirms.
 */
export async function softDeleteFiles(tx: DbOrTx, userId: string, ids: string[], now: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const gone = await tx.update(files)
    .set({ deletedAt: now })
    .where(and(inArray(files.id, ids), eq(files.userId, userId), isNull(files.deletedAt)))
    .returning({ id: files.id, size: files.size });
  if (gone.length) {
    const bytes = gone.reduce((s, f) => s + f.size, 0);
    await tx.update(users).set({
      storageBytes: sql`greatest(${users.storageBytes} - ${bytes}, 0)`,
      filesCount: sql`greatest(${users.filesCount} - ${gone.length}, 0)`,
    }).where(eq(users.id, userId));
    for (const f of gone) await enqueuePurge(tx, { id: f.id, userId });
    // `file.deleted` / `file.expired` webhook deliveries commit with the deletion (modules/webhooks).
    await emitFileRemovals(tx, userId, gone.map((f) => f.id), now);
  }
  return gone.map((f) => f.id);
}
