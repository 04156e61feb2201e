/**
 * Where image layers come from, and who may use them (#24).
 *
 * - `l_<id>` names a file of the **same account** as the base image. Anything else (another
 *   account's file, a deleted or expired one, a non-raster type) is the same 400, so a URL can
 *   neither pull someone else's image in nor learn whether an id exists. On an unsigned URL,
 *   which anyone can write, the layer must be public (a private one would be readable that
 *   way); a signed URL or a named watermark may draw a private one (a private logo is usual).
 * - `l_wm:<name>` is a named watermark of the base's account settings (watermarks.ts): its spec
 *   gives the file and placement; placement keys written in the URL override the spec's.
 * - A forced watermark (`force_watermark` in the settings) is added to every render that is not
 *   signed: public `/t` URLs and the eager derivatives made for them. Signed URLs are the
 *   owner's own (made with their key) and are not forced.
 *
 * Cache key: the identity of every layer (its file's SHA-256 and the effective placement) is
 * added to the canonical options before hashing, so a different file or spec behind the same
 * URL is a different derivative. Invalidation rule: the layer files are looked up (through the
 * bus-invalidated lookup cache) on every request before the derivative cache is consulted, so
 * once a layer file is deleted, expired or its watermark setting changed, no derivative made
 * with it is served again: the request answers 400 (or renders the new layer under a new key),
 * and the old derivatives age out of the LRU tiers (or go with their base's purge).
 */
import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { CoreDeps } from '../../deps';
import { forbidden, invalidTransformation } from '../../errors';
import { AUTH_INVALIDATE_TOPIC, type FileLookup, type FileLookupCache } from '../cache/lookup';
import { users } from '../users/table';
import type { LayerGravity, LayerOptions } from './layer-grammar';
import type { TransformOptions } from './options';

export interface AccountLayers {
  readonly watermarks: Readonly<Record<string, string>>;
  /** The name of the watermark forced on public renders, or null. */
  readonly force: string | null;
}

/** A layer file and its effective placement, before its bytes are read. */
export interface LayerRef {
  readonly file: FileLookup;
  readonly gravity: LayerGravity | 'tile';
  readonly x: number;
  readonly y: number;
  readonly w?: number;
  readonly opacity: number;
}

const TTL_MS = 60_000;

/** Per-account watermark settings, cached like the file lookups and dropped on `auth_invalidate` user messages. */
export function createAccountLayers(deps: CoreDeps) {
  const cache = new LRUCache<string, AccountLayers>({ max: 10_000, ttl: TTL_MS });
  const unsubscribe = deps.bus.subscribe(AUTH_INVALIDATE_TOPIC, (raw) => {
    try {
      const msg = JSON.parse(raw) as { kind?: unknown; id?: unknown };
      if (msg.kind === 'user' && typeof msg.id === 'string') cache.delete(msg.id);
    } catch {
      cache.clear();
    }
  }).catch((err: unknown) => {
    deps.log.error({ err }, 'watermark settings invalidation subscribe failed; relying on cache TTL');
    return async () => {};
  });
  deps.onShutdown(async () => (await unsubscribe)());

  async function load(userId: string): Promise<AccountLayers> {
    const [row] = await deps.db
      .select({ watermarks: users.watermarks, force: users.forceWatermark })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1);
    return { watermarks: row?.watermarks ?? {}, force: row?.force ?? null };
  }

  return {
    ready: unsubscribe.then(() => undefined),
    /** Synchronously, when cached (the delivery fast path declines otherwise). */
    peek: (userId: string): AccountLayers | undefined => cache.get(userId),
    async get(userId: string): Promise<AccountLayers> {
      const hit = cache.get(userId);
      if (hit) return hit;
      const value = await load(userId);
      cache.set(userId, value);
      return value;
    },
    /** Drops this instance's entry at once (the settings route also broadcasts to the others). */
    delete: (userId: string) => cache.delete(userId),
  };
}

export type AccountLayersCache = ReturnType<typeof createAccountLayers>;

const RASTER = (type: string) => type.startsWith('image/') && type !== 'image/svg+xml';

export interface LayerResolver {
  lookup: FileLookupCache;
  accounts: AccountLayersCache;
  /** Parses a stored watermark spec (the parser's cache). */
  parseSpec: (spec: string) => LayerOptions;
  now: () => number;
}

/**
 * The layer's file: of the base's owner, live, a raster image; one answer for every failure.
 * `publicOnly` for an `l_<id>` of an unsigned URL: anyone can write one, so it must not draw a
 * private file into a public render (named watermarks are the owner's own choice in settings).
 */
async function layerFile(r: LayerResolver, id: string, base: FileLookup, key: string, publicOnly = false): Promise<FileLookup> {
  const f = await r.lookup.get(id);
  if (!f || f.userId !== base.userId || (f.expiresAt !== null && f.expiresAt <= r.now()) || !RASTER(f.contentType) || (publicOnly && !f.isPublic)) {
    throw invalidTransformation(key, publicOnly ? 'the id of a public image of the same account as the transformed file (private layers need a signed URL or a named watermark)' : 'the id of an image of the same account as the transformed file', id);
  }
  return f;
}

function refOf(file: FileLookup, spec: LayerOptions, over: LayerOptions = {}): LayerRef {
  const w = over.lw ?? spec.lw;
  return {
    file,
    gravity: over.lg ?? spec.lg ?? 'center',
    x: over.lx ?? spec.lx ?? 0,
    y: over.ly ?? spec.ly ?? 0,
    ...(w !== undefined ? { w } : {}),
    opacity: over.lo ?? spec.lo ?? 100,
  };
}

function namedSpec(r: LayerResolver, account: AccountLayers, name: string, key: string): LayerOptions {
  // Own keys only: `wm:constructor` must not find Object's prototype.
  const spec = Object.hasOwn(account.watermarks, name) ? account.watermarks[name] : undefined;
  if (spec === undefined) throw invalidTransformation(key, 'wm:<name> of a watermark in the account settings', `wm:${name}`);
  return r.parseSpec(spec);
}

/**
 * The image layers of one render, in drawing order (the URL's `l_`, then the forced watermark),
 * and their identity for the cache key ('' when there are none).
 */
export async function resolveLayers(
  r: LayerResolver, base: FileLookup, o: TransformOptions, forced: boolean,
): Promise<{ refs: LayerRef[]; identity: string }> {
  const refs: LayerRef[] = [];
  const account = o.l?.startsWith('wm:') || forced ? await r.accounts.get(base.userId) : undefined;
  if (o.l !== undefined) {
    if (o.l.startsWith('wm:')) {
      const spec = namedSpec(r, account as AccountLayers, o.l.slice(3), 'l');
      refs.push(refOf(await layerFile(r, spec.l as string, base, 'l'), spec, o));
    } else {
      refs.push(refOf(await layerFile(r, o.l, base, 'l', forced), o));
    }
  }
  if (forced && account?.force) {
    const spec = namedSpec(r, account, account.force, 'force_watermark');
    let file: FileLookup;
    try {
      file = await layerFile(r, spec.l as string, base, 'force_watermark');
    } catch {
      // The owner's forced watermark names an image that is gone (deleted, expired): nothing
      // may be served unmarked, and it is not the visitor's URL that is wrong (it was a 400
      // naming force_watermark, as if the URL had asked for it).
      throw forbidden(`This account serves its images only with its watermark "${account.force}", whose image is no longer available: its owner must choose another in the settings.`);
    }
    refs.push(refOf(file, spec));
  }
  const identity = refs.map((l) => `${l.file.sha256}:${l.gravity}:${l.x}:${l.y}:${l.w ?? ''}:${l.opacity}`).join(';');
  return { refs, identity: identity && `\nlayers:${identity}` };
}
