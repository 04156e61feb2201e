/**
 * The SQL of `GET /api/files` pages. The database builds a page's files as one JSON value, so a
 * driver parses one field per page instead of ~16 per file, which was most of a page's database
 * cost on PGlite (docs/TUNING.md, "The file list"). The default page (no filter, newest first),
 * the one most clients ask for over and over, is one prepared statement built once per database
 * handle, with the total and the URL base in the same row: a request pays neither Drizzle's
 * query building nor the parse (postgres.js prepares it on Postgres, which still plans each
 * call; on PGlite it is a named statement planned once, pglite-named.ts). `list.test.ts` checks
 * it against the filtered path of `listFiles` (service.ts).
 */
import { and, eq, gt, isNull, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { registerNamedStatement } from '../../db/pglite-named';
import { users } from '../users/table';
import type { FileView } from './service';
import { files } from './table';

/** A timestamp as `Date.toISOString` writes it (the columns keep milliseconds). */
const iso = (col: typeof files.createdAt | typeof files.expiresAt) => sql`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The column a page is sorted by (then by id, the same way). */
export interface PageSort {
  key: typeof files.createdAt | typeof files.name | typeof files.size;
  descending: boolean;
}

/**
 * The JSON array (`FileView`s) of at most `limit` files matching `where`, in `sort` order. Of
 * `meta` only what the list shows travels (it may also hold EXIF).
 */
export function pageJson(where: SQL | undefined, sort: PageSort, limit: SQLWrapper | number) {
  const dir = sql.raw(sort.descending ? 'desc' : 'asc');
  const p = sql.raw('p');
  return sql<FileView[]>`(select coalesce(json_agg(json_build_object(
      'id', ${p}.id, 'name', ${p}.name, 'folder', ${p}.folder, 'contentType', ${p}.content_type, 'size', ${p}.size,
      'sha256', ${p}.sha256, 'width', ${p}.width, 'height', ${p}.height, 'isPublic', ${p}.is_public,
      'meta', json_build_object('duration_s', ${p}.meta->'duration_s', 'blurhash', ${p}.meta->'blurhash', 'dominant_color', ${p}.meta->'dominant_color'),
      'tags', ${p}.tags, 'customMeta', ${p}.custom_meta, 'createdAt', ${p}.created_iso, 'expiresAt', ${p}.expires_iso
    ) order by ${p}.sort_key ${dir}, ${p}.id ${dir}), '[]'::json)
    from (select ${files.id}, ${files.name}, ${files.folder}, ${files.contentType}, ${files.size}, ${files.sha256}, ${files.width},
        ${files.height}, ${files.isPublic}, ${files.meta}, ${files.tags}, ${files.customMeta}, ${sort.key} as sort_key,
        ${iso(files.createdAt)} as created_iso, ${iso(files.expiresAt)} as expires_iso
      from ${files} where ${where} order by ${sort.key} ${dir}, ${files.id} ${dir} limit ${limit}) ${p})`;
}

// Typed placeholders: PGlite sends untyped parameters as text, which `uuid = text` refuses.
const user = sql`${sql.placeholder('user')}::uuid`;
const now = sql`${sql.placeholder('now')}::timestamptz`;

const live = and(eq(files.userId, user), isNull(files.deletedAt), or(isNull(files.expiresAt), gt(files.expiresAt, now)));
const newest: PageSort = { key: files.createdAt, descending: true };

function prepare(db: Db) {
  const page = (name: string, where: SQL | undefined) => {
    const statement = db.select({
      base: users.publicUrlBase,
      // `files_count` minus the expired files the sweep has not removed yet (service.ts `countFiles`).
      // Table-qualified by hand: Drizzle names a single table's columns bare, and a bare "id" in
      // the subquery would be the file's.
      count: sql<number>`greatest(users.files_count - (select count(*) from files f where f.user_id = users.id and f.deleted_at is null and f.expires_at is not null and f.expires_at <= ${now}), 0)::int`,
      files: pageJson(where, newest, sql.placeholder('limit')),
    }).from(users).where(eq(users.id, user)).prepare(name);
    // On PGlite, planned once (its generic plan: pglite-named.test.ts shows it).
    registerNamedStatement(name, statement.getQuery().sql);
    return statement;
  };
  return {
    first: page('files_list_first', live),
    after: page('files_list_after', and(live, sql`(${files.createdAt}, ${files.id}) < (${sql.placeholder('at')}::timestamptz, ${sql.placeholder('id')}::text)`)),
  };
}

const byDb = new WeakMap<Db, ReturnType<typeof prepare>>();

/** The default page's prepared statements of `db` (made on first use). */
export function preparedList(db: Db): ReturnType<typeof prepare> {
  let p = byDb.get(db);
  if (!p) {
    p = prepare(db);
    byDb.set(db, p);
  }
  return p;
}
