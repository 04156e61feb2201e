/**
 * The SQL of `GET /api/files` pages. The database writes a page's files as the JSON text of the
 * response's `results`, each object as `toFileJson` (service.ts) makes it, so the server neither
 * parses the rows nor serialises them again: it puts the text in the body as it came (~30 % of a
 * Postgres page's server CPU was that parse and re-serialisation; before it, ~16 fields per file
 * were parsed one by one, most of a page's cost on PGlite: docs/TUNING.md, "The file list").
 * Beside the text come whether a further page exists and the last listed file's sort key and id,
 * for the cursor.
 *
 * The default page (no filter, newest first), the one most clients ask for over and over, is
 * one prepared statement built once per database handle, with the total in the same row: a
 * request pays neither Drizzle's query building nor the parse (postgres.js prepares it on
 * Postgres, which still plans each call; on PGlite it is a named statement planned once,
 * pglite-named.ts). `list.test.ts` checks every listed file against `GET /api/files/:id`.
 */
import { and, eq, gt, isNull, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { registerNamedStatement } from '../../db/pglite-named';
import { CONTENT_TYPES } from '../reference/content-types';
import { files } from './table';

/** What a page's statement answers (`count` only on the default page's). */
export interface PageRow {
  /** The JSON array of the page's file objects. */
  files: string;
  /** Whether a further page exists. */
  more: boolean;
  /** The last listed file's sort key (as text) and id, for `next_cursor`. */
  lastKey: string | null;
  lastId: string | null;
}

/** The column a page is sorted by (then by id, the same way). */
export interface PageSort {
  key: typeof files.createdAt | typeof files.name | typeof files.size;
  descending: boolean;
}

const col = (name: string) => sql.raw(`"files"."${name}"`);

/** A timestamp as `Date.toISOString` writes it (the columns keep milliseconds). */
const iso = (c: SQL) => sql`to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The `url`'s extension: the content type's first, as `toFileJson` adds it. */
const extension = sql.raw(`case "files"."content_type" ${CONTENT_TYPES.map((c) => `when '${c.mime}' then '.${c.extensions[0]}'`).join(' ')} else '' end`);

/** A `meta` entry when it has the JSON type the file object promises, else `null`. */
const metaOf = (key: string, type: 'number' | 'string') =>
  sql.raw(`case when jsonb_typeof("files"."meta"->'${key}') = '${type}' then ("files"."meta"->'${key}')::text else 'null' end`);

/** `value`'s JSON, or `null` (`concat` would write nothing for SQL NULL). */
const orNull = (value: SQL) => sql`coalesce(${value}, 'null')`;

/**
 * One file's object as `toFileJson` writes it, same keys in the same order. Written as text rather
 * than with `json_build_object`, whose output puts spaces around every `:` and `,`.
 */
const fileObject = sql`concat('{"id":', to_json(${col('id')}), ',"name":', to_json(${col('name')}), ',"folder":', to_json(${col('folder')}),
  ',"content_type":', to_json(${col('content_type')}), ',"size":', ${col('size')}, ',"sha256":', to_json(${col('sha256')}),
  ',"width":', ${orNull(sql`${col('width')}::text`)}, ',"height":', ${orNull(sql`${col('height')}::text`)},
  ',"duration_s":', ${metaOf('duration_s', 'number')}, ',"blurhash":', ${metaOf('blurhash', 'string')},
  ',"dominant_color":', ${metaOf('dominant_color', 'string')}, ',"is_public":', to_json(${col('is_public')}),
  ',"url":', to_json(b.base || '/i/' || ${col('id')} || ${extension}), ',"download_url":', to_json(b.base || '/d/' || ${col('id')}),
  ',"transform_url":', to_json(b.base || '/t/{transformations}/' || ${col('id')}), ',"view_url":', to_json(b.base || '/v/' || ${col('id')}),
  ',"tags":', to_json(${col('tags')}), ',"custom_metadata":', ${col('custom_meta')},
  ',"created_at":"', ${iso(col('created_at'))}, '","expires_at":', ${orNull(sql`'"' || ${iso(col('expires_at'))} || '"'`)}, '}')`;

/**
 * A page: the files matching `where`, in `sort` order, at most `limit`; `user`'s URL base
 * (`public_url_base`, else `fallbackBase`) in their URLs. A select of one row (`PageRow`'s
 * columns, snake_case) over which a caller may add columns of its own.
 */
export function pageFrom(where: SQL | undefined, sort: PageSort, limit: SQLWrapper, user: SQLWrapper, fallbackBase: SQLWrapper): SQL {
  const dir = sql.raw(sort.descending ? 'desc' : 'asc');
  const lim = sql`${limit}::int`;
  const last = sql`max(p.sort_key) filter (where p.rn = ${lim})`;
  const lastKey = sort.key === files.size ? sql`${last}::text` : sort.key === files.createdAt ? iso(last) : last;
  // The base once per statement (`offset 0` keeps Postgres from copying the subquery into every use).
  return sql`(select coalesce('[' || string_agg(p.obj, ',' order by p.rn) filter (where p.rn <= ${lim}) || ']', '[]') as files,
      count(*) > ${lim} as more, ${lastKey} as last_key, max(p.id) filter (where p.rn = ${lim}) as last_id
    from (select ${fileObject} as obj, row_number() over (order by ${sort.key} ${dir}, ${files.id} ${dir}) as rn, ${files.id} as id, ${sort.key} as sort_key
      from ${files}, (select coalesce((select u.public_url_base from users u where u.id = ${user}), ${fallbackBase}::text) as base offset 0) b
      where ${where} order by ${sort.key} ${dir}, ${files.id} ${dir} limit ${lim} + 1) p) page`;
}

/** `PageRow`'s columns of `pageFrom`'s select, for Drizzle. */
export const pageColumns = {
  files: sql<string>`page.files`,
  more: sql<boolean>`page.more`,
  lastKey: sql<string | null>`page.last_key`,
  lastId: sql<string | null>`page.last_id`,
};

// Typed placeholders: PGlite sends untyped parameters as text, which `uuid = text` refuses.
const user = sql`${sql.placeholder('user')}::uuid`;
const now = sql`${sql.placeholder('now')}::timestamptz`;

const live = and(eq(files.userId, user), isNull(files.deletedAt), or(isNull(files.expiresAt), gt(files.expiresAt, now)));
const newest: PageSort = { key: files.createdAt, descending: true };

function prepare(db: Db) {
  const page = (name: string, where: SQL | undefined) => {
    const statement = db.select({
      ...pageColumns,
      // `files_count` minus the expired files the sweep has not removed yet (service.ts `countFiles`).
      count: sql<number>`coalesce((select greatest(u.files_count - (select count(*) from files f where f.user_id = u.id and f.deleted_at is null and f.expires_at is not null and f.expires_at <= ${now}), 0)::int from users u where u.id = ${user}), 0)`,
    }).from(pageFrom(where, newest, sql.placeholder('limit'), user, sql.placeholder('base'))).prepare(name);
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
