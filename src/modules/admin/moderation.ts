/**
 * Moderation: admins list, view and delete any account's files. Viewing and deleting a file
 * write an `admin_audit` row (who, when, which file, which action); a delete is the owner's
 * durable delete (soft delete + usage release + `purge` job), with its audit row in the same
 * transaction, so there is never a delete without its record.
 */
import { and, desc, eq, ilike, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { notFound } from '../../errors';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../lib/cursors';
import { forgetFiles } from '../files/invalidate';
import { softDeleteFiles, toFileJson } from '../files/service';
import { files, type FileRow } from '../files/table';
import { users } from '../users/table';
import { adminAudit, type AdminAuditRow, type AuditAction } from './table';
import { escapeLike } from '../../lib/sql-like';

/** Who acts: the admin principal's id and email (copied into the audit row). */
export interface Actor {
  userId: string;
  email: string;
}

type OwnedFile = { file: FileRow; ownerEmail: string; base: string | null };

/** A file as admins see it: the file object (URLs on the owner's base) plus its owner. */
const toAdminFileJson = (deps: AppDeps, o: OwnedFile) => ({
  ...toFileJson(o.file, o.base ?? deps.config.publicUrl),
  user_id: o.file.userId,
  owner_email: o.ownerEmail,
});

const ownedFiles = (db: DbOrTx) =>
  db.select({ file: files, ownerEmail: users.email, base: users.publicUrlBase }).from(files).innerJoin(users, eq(users.id, files.userId));

/** What a file id looks like (files' ids are text, not uuids): checked before it reaches SQL. */
const FILE_ID = /^[\w-]{1,64}$/;

export interface AdminFileQuery {
  user_id?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

/** Live (not deleted) files of every account, newest first, keyset-paginated; `count` covers all pages. */
export async function listAllFiles(deps: AppDeps, q: AdminFileQuery) {
  const filters: SQL[] = [isNull(files.deletedAt)];
  if (q.user_id) filters.push(eq(files.userId, q.user_id));
  if (q.q) filters.push(ilike(files.name, `%${escapeLike(q.q)}%`));
  const limit = q.limit ?? 50;
  const page = q.cursor ? (() => {
    const c = decodeTimeIdCursor(q.cursor, FILE_ID);
    return sql`(${files.createdAt}, ${files.id}) < (${c.at.toISOString()}::timestamptz, ${c.id})`;
  })() : undefined;
  const [rows, [total]] = await Promise.all([
    ownedFiles(deps.db).where(and(...filters, page)).orderBy(desc(files.createdAt), desc(files.id)).limit(limit + 1),
    deps.db.select({ n: sql<number>`count(*)::int` }).from(files).where(and(...filters)),
  ]);
  const more = rows.length > limit;
  const results = rows.slice(0, limit);
  const last = results.at(-1);
  return {
    results: results.map((r) => toAdminFileJson(deps, r)),
    count: total?.n ?? 0,
    next_cursor: more && last ? encodeTimeIdCursor(last.file.createdAt, last.file.id) : null,
  };
}

async function liveFile(db: DbOrTx, id: string): Promise<OwnedFile> {
  const [row] = await ownedFiles(db).where(and(eq(files.id, id), isNull(files.deletedAt))).limit(1);
  if (!row) throw notFound('File');
  return row;
}

const audit = (db: DbOrTx, actor: Actor, action: AuditAction, f: FileRow, now: Date) =>
  db.insert(adminAudit).values({
    actorId: actor.userId, actorEmail: actor.email, action, fileId: f.id, ownerId: f.userId, createdAt: now,
    details: { name: f.name, content_type: f.contentType, size: f.size },
  });

/**
 * An admin's signed URL of another account's file shows it to whoever holds the URL: recorded as
 * a `file.view` (`details.via: "signed_url"`), as opening it on the admin's files page is. It
 * was the one way to reach another account's private file that left no trace.
 */
export async function auditSignedFiles(deps: AppDeps, actor: Actor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await deps.db.select().from(files).where(and(inArray(files.id, [...ids]), ne(files.userId, actor.userId)));
  const now = new Date(deps.clock.now());
  if (rows.length === 0) return;
  await deps.db.insert(adminAudit).values(rows.map((f) => ({
    actorId: actor.userId, actorEmail: actor.email, action: 'file.view' as const, fileId: f.id, ownerId: f.userId, createdAt: now,
    details: { name: f.name, content_type: f.contentType, size: f.size, via: 'signed_url' },
  })));
}

/** One file of any account; records a `file.view`. */
export async function viewFile(deps: AppDeps, actor: Actor, id: string) {
  const owned = await liveFile(deps.db, id);
  await audit(deps.db, actor, 'file.view', owned.file, new Date(deps.clock.now()));
  return toAdminFileJson(deps, owned);
}

/** Deletes any account's file the way its owner would, and records a `file.delete` in the same transaction. */
export async function deleteAnyFile(deps: AppDeps, actor: Actor, id: string): Promise<void> {
  const now = new Date(deps.clock.now());
  await deps.db.transaction(async (tx) => {
    const { file } = await liveFile(tx, id);
    const [deleted] = await softDeleteFiles(tx, file.userId, [id], now);
    if (!deleted) throw notFound('File'); // deleted by its owner meanwhile
    await audit(tx, actor, 'file.delete', file, now);
  });
  await forgetFiles(deps, [id]); // delivery caches on every instance forget it
}

export const toAuditJson = (a: AdminAuditRow) => ({
  id: a.id,
  action: a.action,
  actor_id: a.actorId,
  actor_email: a.actorEmail,
  file_id: a.fileId,
  owner_id: a.ownerId,
  details: a.details,
  created_at: a.createdAt.toISOString(),
});

export interface AuditQuery {
  file_id?: string;
  actor_id?: string;
  action?: AuditAction;
  limit?: number;
  cursor?: string;
}

/** The audit trail, newest first, keyset-paginated. */
export async function listAudit(deps: AppDeps, q: AuditQuery) {
  const filters: SQL[] = [];
  if (q.file_id) filters.push(eq(adminAudit.fileId, q.file_id));
  if (q.actor_id) filters.push(eq(adminAudit.actorId, q.actor_id));
  if (q.action) filters.push(eq(adminAudit.action, q.action));
  const limit = q.limit ?? 50;
  const matching = and(...filters);
  if (q.cursor) {
    const c = decodeTimeIdCursor(q.cursor);
    filters.push(sql`(${adminAudit.createdAt}, ${adminAudit.id}) < (${c.at.toISOString()}::timestamptz, ${c.id}::uuid)`);
  }
  const [rows, [total]] = await Promise.all([
    deps.db.select().from(adminAudit).where(and(...filters)).orderBy(desc(adminAudit.createdAt), desc(adminAudit.id)).limit(limit + 1),
    // Every entry the filters match, over all pages, as every list gives it (API.md §1).
    deps.db.select({ n: sql<number>`count(*)::int` }).from(adminAudit).where(matching),
  ]);
  const more = rows.length > limit;
  const results = rows.slice(0, limit);
  const last = results.at(-1);
  return { results: results.map(toAuditJson), count: Number(total?.n ?? 0), next_cursor: more && last ? encodeTimeIdCursor(last.createdAt, last.id) : null };
}
