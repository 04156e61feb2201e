/**
 * The default page of `GET /api/files` (no filter, newest first) as prepared statements: the
 * page most clients ask for, over and over. Built once per database handle, so a request pays
 * neither Drizzle's query building (~15 % of a page's CPU when built per request) nor, on
 * Postgres, the parse and plan; and the total and the URL base come back in one query.
 * The SQL is the same as `listFiles` builds for this case (service.ts); `list.test.ts` runs both.
 */
import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { users } from '../users/table';
import { files } from './table';

// Typed placeholders: PGlite sends untyped parameters as text, which `uuid = text` refuses.
const user = sql`${sql.placeholder('user')}::uuid`;
const now = sql`${sql.placeholder('now')}::timestamptz`;

const live = and(eq(files.userId, user), isNull(files.deletedAt), or(isNull(files.expiresAt), gt(files.expiresAt, now)));

function prepare(db: Db) {
  return {
    first: db.select().from(files).where(live)
      .orderBy(desc(files.createdAt), desc(files.id)).limit(sql.placeholder('limit')).prepare('files_list_first'),
    after: db.select().from(files)
      .where(and(live, sql`(${files.createdAt}, ${files.id}) < (${sql.placeholder('at')}::timestamptz, ${sql.placeholder('id')}::text)`))
      .orderBy(desc(files.createdAt), desc(files.id)).limit(sql.placeholder('limit')).prepare('files_list_after'),
    // `files_count` minus the expired files the sweep has not removed yet (service.ts `countFiles`).
    totals: db.select({
      base: users.publicUrlBase,
      // Table-qualified by hand: Drizzle names a single table's columns bare, and a bare "id" in
      // the subquery would be the file's.
      count: sql<number>`greatest(users.files_count - (select count(*) from files f where f.user_id = users.id and f.deleted_at is null and f.expires_at is not null and f.expires_at <= ${now}), 0)::int`,
    }).from(users).where(eq(users.id, user)).prepare('files_list_totals'),
  };
}

const byDb = new WeakMap<Db, ReturnType<typeof prepare>>();

/** The prepared statements of `db` (made on first use). */
export function preparedList(db: Db): ReturnType<typeof prepare> {
  let p = byDb.get(db);
  if (!p) {
    p = prepare(db);
    byDb.set(db, p);
  }
  return p;
}
