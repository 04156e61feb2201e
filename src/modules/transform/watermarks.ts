/**
 * The watermark part of the account settings (#24, API.md §3): `watermarks` (name → layer spec)
 * and `force_watermark` (a name drawn on every public render; layer-sources.ts). Kept beside
 * the layers that use them; the settings route (users/routes.ts) calls in here.
 *
 * A spec is a transformation segment of image-layer keys only: `l_<file id>` (an image of the
 * same account) and optionally `lg_`, `lx_`, `ly_`, `lw_`, `lo_` — e.g.
 * `l_abc123XyZ9kq,lg_south_east,lx_16,ly_16,lw_0.2,lo_60`. It is checked when saved (the
 * file must be the account's own raster image) and again on every render that uses it.
 */
import { eq } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import type { DbOrTx } from '../../db/client';
import { AppError, conflict, validationError } from '../../errors';
import { users } from '../users/table';
import { WATERMARK_NAME } from './layer-grammar';
import { parseTransformation } from './parse';

export const MAX_WATERMARKS = 20;
const SPEC_KEYS = new Set(['l', 'lg', 'lx', 'ly', 'lw', 'lo']);

export interface WatermarkSettings {
  watermarks: Record<string, string>;
  force_watermark: string | null;
}

export async function getWatermarkSettings(deps: AppDeps, userId: string): Promise<WatermarkSettings> {
  const [row] = await deps.db.select({ w: users.watermarks, f: users.forceWatermark }).from(users).where(eq(users.id, userId)).limit(1);
  return { watermarks: row?.w ?? {}, force_watermark: row?.f ?? null };
}

/**
 * The account's images that its watermarks draw, by file id → watermark names. Deleting one
 * would break every render that uses it (a forced one: every public image of the account), so
 * deletes refuse them (`refuseWatermarkDeletes`).
 */
export async function watermarkImages(db: DbOrTx, userId: string): Promise<Map<string, string[]>> {
  const [row] = await db.select({ w: users.watermarks }).from(users).where(eq(users.id, userId)).limit(1);
  const out = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(row?.w ?? {})) {
    const id = /(?:^|,)l_([A-Za-z0-9]+)(?:,|$)/.exec(spec)?.[1];
    if (id) out.set(id, [...(out.get(id) ?? []), name]);
  }
  return out;
}

/** 409 when one of `ids` is an image a watermark of the account draws (`action`: what was asked of it). */
export async function refuseWatermarkDeletes(db: DbOrTx, userId: string, ids: readonly string[], action = 'deleting the file'): Promise<void> {
  const images = await watermarkImages(db, userId);
  const used = ids.find((id) => images.has(id));
  if (used === undefined) return;
  const names = images.get(used)!.map((n) => `"${n}"`).join(', ');
  throw conflict(`File ${used} is the image of your watermark ${names} (settings): give the watermark another image, or remove it, before ${action}.`);
}

const fieldError = (path: string, message: string) => validationError(`${path.slice(1)} ${message}.`, [{ path, message }]);

/** Checks a spec and returns its canonical form (the parser's), or throws a 400 naming the watermark. */
async function checkSpec(deps: AppDeps, userId: string, name: string, spec: string): Promise<string> {
  const path = `/watermarks/${name}`;
  if (!WATERMARK_NAME.test(name)) throw fieldError(path, 'is not a valid name: 1 to 32 of a-z 0-9 and -, starting with a letter or digit');
  const delivery = deps.delivery;
  let parsed;
  try {
    parsed = parseTransformation(spec, undefined, delivery.limits, new Map());
  } catch (err) {
    throw fieldError(path, `is not a layer spec: ${err instanceof AppError ? err.message.replace(/\.$/, '') : 'malformed'}`);
  }
  const extra = parsed.keys.find((k) => !SPEC_KEYS.has(k));
  if (extra !== undefined) throw fieldError(path, `may only use l, lg, lx, ly, lw and lo (not ${extra})`);
  const id = parsed.options.l;
  if (id === undefined || id.startsWith('wm:')) throw fieldError(path, 'needs l_<file id> (an image of this account)');
  const file = await delivery.lookup.get(id);
  if (!file || file.userId !== userId || !file.contentType.startsWith('image/') || file.contentType === 'image/svg+xml') {
    throw fieldError(path, `names ${id}, which is not an image of this account`);
  }
  if (file.expiresAt !== null) throw fieldError(path, `names ${id}, which expires: a watermark's image must not (clear its expiry first)`);
  return parsed.canonical;
}

/** The checked watermark fields of a settings PATCH, ready to store (undefined = nothing to change). */
export type WatermarkPatch = WatermarkSettings | undefined;

/**
 * Validates the watermark fields of a settings PATCH (`watermarks` replaces the whole map) and
 * returns what to store; nothing is written, so a refusal elsewhere in the PATCH stores nothing.
 */
export async function checkWatermarkPatch(
  deps: AppDeps, userId: string, patch: { watermarks?: unknown; force_watermark?: string | null },
): Promise<WatermarkPatch> {
  if (patch.watermarks === undefined && patch.force_watermark === undefined) return undefined;
  const current = await getWatermarkSettings(deps, userId);
  let watermarks = current.watermarks;
  if (patch.watermarks !== undefined) {
    const sent = patch.watermarks;
    if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) throw fieldError('/watermarks', 'must be an object of name → layer spec');
    const entries = Object.entries(sent as Record<string, unknown>);
    if (entries.length > MAX_WATERMARKS) throw fieldError('/watermarks', `holds at most ${MAX_WATERMARKS} watermarks`);
    watermarks = {};
    for (const [name, spec] of entries) {
      if (typeof spec !== 'string' || spec === '' || spec.length > 256) throw fieldError(`/watermarks/${name.slice(0, 40)}`, 'must be a layer spec of 1 to 256 characters');
      watermarks[name] = await checkSpec(deps, userId, name, spec);
    }
  }
  const force = patch.force_watermark === undefined ? current.force_watermark : patch.force_watermark;
  if (force !== null && !Object.hasOwn(watermarks, force)) {
    throw fieldError('/force_watermark', `must name one of the watermarks (${Object.keys(watermarks).join(', ') || 'none set'}), or be null`);
  }
  return { watermarks, force_watermark: force };
}

/**
 * Stores checked watermark settings, then drops every cached view of the account's renders on
 * all instances: its watermark settings and its file lookups (which also voids the delivery
 * fast path's memos, fast.ts), here at once and elsewhere through the `auth_invalidate` user
 * message (layer-sources.ts and cache/lookup.ts both listen to it).
 */
export async function applyWatermarkPatch(deps: AppDeps, userId: string, patch: WatermarkPatch, now: Date): Promise<void> {
  if (!patch) return;
  await deps.db.update(users).set({ watermarks: patch.watermarks, forceWatermark: patch.force_watermark, updatedAt: now }).where(eq(users.id, userId));
  const delivery = deps.delivery;
  delivery.accounts.delete(userId);
  delivery.lookup.dropOwner(userId);
  await deps.credentials.invalidateUser(userId);
}
