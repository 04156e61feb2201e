/**
 * The hot-path file lookup: public id → what delivery needs (sha256, storage key, type,
 * visibility, owner ban, expiry), cached in memory so a derivative cache hit touches neither
 * Postgres nor disk. Changes reach every instance over `deps.bus` within a second:
 *
 * - `FILES_INVALIDATE_TOPIC` (`{"id": "<file id>", "sha256"?: "…", "purge"?: true}`): publish on
 *   file delete, visibility or expiry change (`purge` also drops the derivatives: delete,
 *   `DELETE /api/cache/:id`). Use `publishFileChange`.
 * - `auth_invalidate` (`{"kind":"user","id":…}`, published by the accounts module on ban /
 *   unban): drops that owner's entries.
 *
 * A TTL bounds staleness should a message ever be lost (Redis restart).
 */
import { and, eq, isNull } from 'drizzle-orm';
import { countBoundedLru } from '../../lib/lru';
import type { AppDeps, CoreDeps } from '../../deps';
import { files } from '../files/table';
import { users } from '../users/table';

export const FILES_INVALIDATE_TOPIC = 'files_invalidate';
/** Published by the accounts module (src/modules/auth/credentials.ts) on user changes such as bans. */
export const AUTH_INVALIDATE_TOPIC = 'auth_invalidate';

export interface FileLookup {
  id: string;
  userId: string;
  sha256: string;
  storageKey: string;
  contentType: string;
  size: number;
  isPublic: boolean;
  ownerBanned: boolean;
  /** Epoch ms, or null. */
  expiresAt: number | null;
  /** For delivery of originals (`/i`, `/d`): Content-Disposition and Last-Modified. */
  name: string;
  createdAt: Date;
  /** The location-free copy `/i`, `/d` and signed originals serve, when the original has GPS. */
  publicStorageKey: string | null;
  publicSha256: string | null;
}

export interface FileChange {
  id: string;
  sha256?: string;
  /** Also drop every derivative of the file's bytes (on every instance). */
  purge?: boolean;
}

const TTL_MS = 60_000;
/** Unknown ids are remembered briefly, so a flood of random ids cannot hammer the database. */
const NEGATIVE_TTL_MS = 2_000;
/**
 * File ids are 12 characters (files/names.ts); a longer "id" from a URL is no file, answered
 * without a query and not remembered, so the cache's 100 000 entries cannot be 100 000 URLs'
 * worth of made-up ids (an 8 KB id per request kept ~11 KB each until evicted).
 */
const MAX_ID_LENGTH = 64;

/** Tells every instance (this one included) that a file changed. Call after the change committed. */
export async function publishFileChange(deps: Pick<AppDeps, 'bus'>, change: FileChange): Promise<void> {
  await deps.bus.publish(FILES_INVALIDATE_TOPIC, JSON.stringify(change));
}

/** The file's row as delivery needs it, or null (missing or deleted). */
async function loadFile(deps: CoreDeps, id: string): Promise<FileLookup | null> {
  const [row] = await deps.db
    .select({
      id: files.id, userId: files.userId, sha256: files.sha256, storageKey: files.storageKey, contentType: files.contentType,
      size: files.size, isPublic: files.isPublic, expiresAt: files.expiresAt, ownerBanned: users.isBanned,
      name: files.name, createdAt: files.createdAt, publicStorageKey: files.publicStorageKey, publicSha256: files.publicSha256,
    })
    .from(files)
    .innerJoin(users, eq(users.id, files.userId))
    .where(and(eq(files.id, id), isNull(files.deletedAt)))
    .limit(1);
  return row ? { ...row, expiresAt: row.expiresAt?.getTime() ?? null } : null;
}

/** `load` reads a file (the database; a test may hold it back to race an invalidation). */
export function createFileLookup(
  deps: CoreDeps, onPurge: (sha256: string) => Promise<unknown>, load = (id: string) => loadFile(deps, id),
) {
  const cache = countBoundedLru<string, { value: FileLookup | null }>(100_000, { ttl: TTL_MS });
  const loading = new Map<string, Promise<FileLookup | null>>();
  /**
   * A load begun before a change of its file may have read the row as it was: it is answered but
   * not kept (it was kept for the TTL: a file just made private served on), and who asks next
   * reads the row again. A change of one file marks that file's load; of an owner or of
   * everything (`MISSED`), every load (`generation`).
   */
  let generation = 0;
  const stale = new WeakSet<Promise<FileLookup | null>>();

  function changed(id?: string): void {
    if (id === undefined) {
      generation++;
      loading.clear();
      return;
    }
    const p = loading.get(id);
    if (!p) return;
    stale.add(p);
    loading.delete(id);
  }

  function apply(raw: string): void {
    let msg: { id?: unknown; kind?: unknown; sha256?: unknown; purge?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      changed();
      cache.clear();
      return;
    }
    if (msg.kind === 'user') {
      changed();
      for (const [id, entry] of cache.entries()) if (entry.value?.userId === msg.id) cache.delete(id);
      return;
    }
    if (msg.kind !== undefined) return; // key or session changes do not concern delivery
    if (typeof msg.id !== 'string') return;
    changed(msg.id);
    const sha = typeof msg.sha256 === 'string' ? msg.sha256 : cache.get(msg.id)?.value?.sha256;
    cache.delete(msg.id);
    if (msg.purge && sha) void onPurge(sha).catch((err: unknown) => deps.log.error({ err }, 'derivative purge failed'));
  }

  const unsubscribes: Promise<() => Promise<void>>[] = [FILES_INVALIDATE_TOPIC, AUTH_INVALIDATE_TOPIC].map((topic) =>
    deps.bus.subscribe(topic, apply).catch((err: unknown) => {
      deps.log.error({ err, topic }, 'delivery invalidation subscribe failed; relying on cache TTL');
      return async () => {};
    }),
  );
  deps.onShutdown(async () => {
    for (const u of unsubscribes) await (await u)();
  });

  return {
    /** Subscriptions are in place (tests wait for it before publishing). */
    ready: Promise.all(unsubscribes).then(() => undefined),
    /** The cached entry, synchronously, when present (the hot path). */
    peek: (id: string): { value: FileLookup | null } | undefined => cache.get(id),
    /** The entry, loading it once (concurrent misses share one query). */
    async get(id: string): Promise<FileLookup | null> {
      if (id.length > MAX_ID_LENGTH) return null;
      const hit = cache.get(id);
      if (hit) return hit.value;
      let p = loading.get(id);
      if (!p) {
        const started = generation;
        const mine: Promise<FileLookup | null> = load(id).finally(() => {
          if (loading.get(id) === mine) loading.delete(id);
        });
        p = mine;
        loading.set(id, p);
        const value = await p;
        if (generation === started && !stale.has(mine)) cache.set(id, { value }, value ? {} : { ttl: NEGATIVE_TTL_MS });
        return value;
      }
      return p;
    },
    /** Applies a change here at once (before the response), then tells the other instances. */
    async invalidate(change: FileChange): Promise<void> {
      apply(JSON.stringify(change));
      try {
        await publishFileChange(deps, change);
      } catch (err) {
        deps.log.error({ err, id: change.id }, 'file invalidation broadcast failed; other instances rely on cache TTL');
      }
    },
    delete: (id: string) => cache.delete(id),
    /** Drops one owner's entries here at once (what an `auth_invalidate` user message does when it arrives). */
    dropOwner: (userId: string) => apply(JSON.stringify({ kind: 'user', id: userId })),
  };
}

export type FileLookupCache = ReturnType<typeof createFileLookup>;
