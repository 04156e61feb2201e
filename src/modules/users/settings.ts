/**
 * Per-account settings and plan (API.md §3). Uploads read them once per request through
 * `getSettings` (files/upload.ts `prepareUpload`, for `uploadLimitOf`, default visibility and
 * expiry), and so do presigned URLs (files/presign.ts). Queries that already read the users row
 * take `public_url_base` and `embeds_enabled` from it directly (files/service.ts `urlBaseOf`,
 * embed/service.ts, admin/moderation.ts) rather than through here.
 */
import { eq } from 'drizzle-orm';
import type { Config, RateBucket } from '../../config';
import { RATE_BUCKETS } from '../../config';
import type { DbOrTx } from '../../db/client';
import { validationError } from '../../errors';
import { ACCOUNT_BUCKETS } from '../limits/service';
import { users } from './table';

export interface Settings {
  public_url_base: string | null;
  max_upload_size_bytes: number;
  default_is_public: boolean;
  default_expires_in: number | null;
  /** Embed pages (`/v/:id`) and oEmbed for this account's public files (modules/embed). */
  embeds_enabled: boolean;
}

export type SettingsPatch = Partial<Settings>;

/** The per-file upload ceiling of the account's plan. */
export const planUploadLimit = (config: Config, isPromoted: boolean) => (isPromoted ? config.promotedMaxUploadBytes : config.maxUploadBytes);

/** Each bucket's rule as the API shows it: `{limit, window_seconds}` (null window: the rule has none). */
export const rateLimitsJson = (config: Config) => Object.fromEntries(
  RATE_BUCKETS.map((b: RateBucket) => {
    const r = config.rateLimits[b];
    return [b, r.windowMs === 0 ? { limit: r.max, window_seconds: null } : { limit: r.max, window_seconds: Math.round(r.windowMs / 1000) }];
  }),
);

/**
 * The plan of an account: limits that apply to it (null = unlimited). An exempt account (admin or
 * promoted) is not shown the per-account buckets, which do not count it.
 */
export function planOf(config: Config, isPromoted: boolean, exempt = isPromoted) {
  const rateLimits = Object.entries(rateLimitsJson(config)).filter(([b]) => !exempt || !ACCOUNT_BUCKETS.includes(b as RateBucket));
  return {
    max_upload_size_bytes: planUploadLimit(config, isPromoted),
    storage_quota_bytes: isPromoted ? null : config.storageQuotaBytes,
    max_files: isPromoted ? null : config.maxFiles,
    rate_limits: config.disableRateLimit ? {} : Object.fromEntries(rateLimits),
  };
}

/** The account's settings with defaults filled in; null when the user does not exist. */
export async function getSettings(db: DbOrTx, config: Config, userId: string): Promise<Settings | null> {
  const [u] = await db
    .select({
      isPromoted: users.isPromoted, publicUrlBase: users.publicUrlBase, maxUploadSizeBytes: users.maxUploadSizeBytes,
      defaultIsPublic: users.defaultIsPublic, defaultExpiresIn: users.defaultExpiresIn, embedsEnabled: users.embedsEnabled,
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!u) return null;
  const plan = planUploadLimit(config, u.isPromoted);
  return {
    public_url_base: u.publicUrlBase,
    // A setting above a (since lowered) plan never raises the ceiling.
    max_upload_size_bytes: Math.min(u.maxUploadSizeBytes ?? plan, plan),
    default_is_public: u.defaultIsPublic,
    default_expires_in: u.defaultExpiresIn,
    embeds_enabled: u.embedsEnabled,
  };
}

/**
 * The effective per-file upload limit of an account: its setting, capped by its plan, and by a
 * presigned URL's `max_size` when there is one. Every upload path (files/upload.ts
 * `prepareUpload`) takes its limit from here.
 */
export function uploadLimitOf(config: Config, isPromoted: boolean, settings: Settings | null, policyMax?: number): number {
  const plan = planUploadLimit(config, isPromoted);
  const own = Math.min(settings?.max_upload_size_bytes ?? plan, plan);
  return policyMax ? Math.min(own, policyMax) : own;
}

/** Validates and stores a subset of settings; returns the new settings. */
export async function updateSettings(db: DbOrTx, config: Config, userId: string, isPromoted: boolean, patch: SettingsPatch, now: Date): Promise<Settings | null> {
  const plan = planUploadLimit(config, isPromoted);
  if (patch.max_upload_size_bytes !== undefined && patch.max_upload_size_bytes > plan) {
    throw validationError(`max_upload_size_bytes cannot exceed your plan's ${plan}.`, [
      { path: '/max_upload_size_bytes', message: `must be at most ${plan}` },
    ]);
  }
  let base = patch.public_url_base;
  if (typeof base === 'string') {
    let url: URL | null = null;
    try {
      url = new URL(base);
    } catch {
      url = null;
    }
    // A bare `?` or `#` leaves search and hash empty but stays in the URL (every link became `…/?/i/<id>`).
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || /[?#]/.test(url.href) || url.username || url.password) {
      throw validationError('public_url_base must be an http(s) URL without query, fragment or credentials, or null.', [
        { path: '/public_url_base', message: 'must be an http(s) URL or null' },
      ]);
    }
    base = url.toString().replace(/\/+$/, '');
  }
  await db
    .update(users)
    .set({
      ...(base !== undefined ? { publicUrlBase: base } : {}),
      ...(patch.max_upload_size_bytes !== undefined ? { maxUploadSizeBytes: patch.max_upload_size_bytes } : {}),
      ...(patch.default_is_public !== undefined ? { defaultIsPublic: patch.default_is_public } : {}),
      ...(patch.default_expires_in !== undefined ? { defaultExpiresIn: patch.default_expires_in } : {}),
      ...(patch.embeds_enabled !== undefined ? { embedsEnabled: patch.embeds_enabled } : {}),
      updatedAt: now,
    })
    .where(eq(users.id, userId));
  return getSettings(db, config, userId);
}
