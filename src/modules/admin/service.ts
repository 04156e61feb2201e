/** Administration (API.md §9): users with usage, ban/promote/role, invites, stats. */
import { and, desc, eq, ilike, lt, or, sql, type SQL } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { conflict, notFound } from '../../errors';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../lib/cursors';
import { anotherAdminStays } from '../account/deletion';
import { revokeAllSessions } from '../auth/sessions';
import { dropAdminScope } from '../keys/service';
import { toUserJson } from '../users/model';
import { planOf } from '../users/settings';
import { users, type UserRow } from '../users/table';

export const toAdminUserJson = (u: UserRow) => ({
  ...toUserJson(u),
  is_banned: u.isBanned,
  usage: { storage_bytes: u.storageBytes, files_count: u.filesCount },
});

/** Escapes LIKE wildcards so `q` matches literally. */
const likeLiteral = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Users, newest first, keyset-paginated, optionally filtered by an email substring. */
export async function listUsers(deps: AppDeps, o: { q?: string; limit: number; cursor?: string }) {
  const filter = o.q ? ilike(users.email, likeLiteral(o.q.toLowerCase())) : undefined;
  let page: SQL | undefined;
  if (o.cursor) {
    const c = decodeTimeIdCursor(o.cursor);
    page = or(lt(users.createdAt, c.at), and(eq(users.createdAt, c.at), lt(users.id, c.id)));
  }
  const [rows, [total]] = await Promise.all([
    deps.db.select().from(users).where(and(filter, page)).orderBy(desc(users.createdAt), desc(users.id)).limit(o.limit + 1),
    deps.db.select({ n: sql<number>`count(*)::int` }).from(users).where(filter),
  ]);
  const more = rows.length > o.limit;
  const results = rows.slice(0, o.limit);
  const last = results.at(-1);
  return { results: results.map(toAdminUserJson), count: total?.n ?? 0, next_cursor: more && last ? encodeTimeIdCursor(last.createdAt, last.id) : null };
}

type Change = { isBanned: boolean } | { isPromoted: boolean } | { role: 'user' | 'admin' };

/**
 * Applies a ban, promotion or role change and drops the user from every instance's credential
 * cache, so the change bites on the next request everywhere. An admin cannot ban or demote
 * themselves, nor the last other administrator (two admins demoting each other at once left none).
 */
export async function changeUser(deps: AppDeps, actorId: string, userId: string, change: Change): Promise<UserRow> {
  const banned = 'isBanned' in change && change.isBanned;
  const demoted = 'role' in change && change.role !== 'admin';
  if (userId === actorId && (banned || demoted)) throw conflict('You cannot ban or demote yourself.');
  const now = new Date(deps.clock.now());
  const { row, keys } = await deps.db.transaction(async (tx) => {
    const adminStays = banned || demoted ? await anotherAdminStays(tx, userId) : true; // its locks come first
    const [before] = await tx.select({ role: users.role }).from(users).where(eq(users.id, userId)).for('no key update');
    if (!before) throw notFound('User');
    if (before.role === 'admin' && !adminStays) {
      throw conflict(`The last administrator cannot be ${banned ? 'banned' : 'demoted'}; give another account the admin role first.`);
    }
    const [row] = await tx.update(users).set({ ...change, updatedAt: now }).where(eq(users.id, userId)).returning();
    return { row: row as UserRow, keys: demoted && before.role === 'admin' ? await dropAdminScope(tx, userId, now) : [] };
  });
  await Promise.all(keys.map((hash) => deps.credentials.invalidateKey(hash)));
  // A ban also signs the account out everywhere, so an unban does not bring back a session
  // someone else had taken over (the usual reason for a ban). API keys stay, refused while banned.
  if (banned) await revokeAllSessions(deps, userId);
  else await deps.credentials.invalidateUser(userId);
  return row;
}

/** An extra section of `GET /api/admin/stats` that another module contributes (queue, cache…). */
export type StatsProvider = () => Promise<unknown> | unknown;

/** A plan's limits (null = unlimited). */
export interface PlanLimits { max_upload_size_bytes: number; storage_quota_bytes: number | null; max_files: number | null }

export interface AdminStats {
  users: { total: number; admins: number; banned: number; promoted: number };
  files: { count: number; bytes: number };
  plans: { standard: PlanLimits; promoted: PlanLimits };
  [section: string]: unknown;
}

function limitsOf(deps: AppDeps, promoted: boolean): PlanLimits {
  const { max_upload_size_bytes, storage_quota_bytes, max_files } = planOf(deps.config, promoted);
  return { max_upload_size_bytes, storage_quota_bytes, max_files };
}

/** The user and file totals, the two plans' limits, and each of `sections` by name (null, logged, when one fails). */
export async function collectStats(deps: AppDeps, sections: Readonly<Record<string, StatsProvider>>): Promise<AdminStats> {
  const [u] = await deps.db
    .select({
      total: sql<number>`count(*)::int`,
      admins: sql<number>`count(*) filter (where ${users.role} = 'admin')::int`,
      banned: sql<number>`count(*) filter (where ${users.isBanned})::int`,
      promoted: sql<number>`count(*) filter (where ${users.isPromoted})::int`,
      files: sql<number>`coalesce(sum(${users.filesCount}), 0)::bigint`,
      bytes: sql<number>`coalesce(sum(${users.storageBytes}), 0)::bigint`,
    })
    .from(users);
  const out: AdminStats = {
    users: { total: u?.total ?? 0, admins: u?.admins ?? 0, banned: u?.banned ?? 0, promoted: u?.promoted ?? 0 },
    files: { count: Number(u?.files ?? 0), bytes: Number(u?.bytes ?? 0) },
    // What promoting an account changes, for the admin's users page (the profile tells only one's own plan).
    plans: { standard: limitsOf(deps, false), promoted: limitsOf(deps, true) },
  };
  for (const [name, provider] of Object.entries(sections)) {
    try {
      out[name] = await provider();
    } catch (err) {
      deps.log.warn({ err, section: name }, 'admin stats section failed');
      out[name] = null;
    }
  }
  return out;
}
