/** `/api/profile` and `/api/settings` (API.md §3). The profile is served from the credential cache. */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, unauthorized } from '../../errors';
import { uncheckedMap } from '../../lib/unchecked-map';
import type { CachedUser } from '../auth/credentials';
import { authGuard } from '../auth/guard';
import { strict } from '../auth/model';
import { toUserJson, UserSchema } from './model';
import { getSettings, planOf, updateSettings } from './settings';
import { applyWatermarkPatch, checkWatermarkPatch, getWatermarkSettings, MAX_WATERMARKS } from '../transform/watermarks';

const RateRuleSchema = t.Object({ limit: t.Integer(), window_seconds: t.Union([t.Integer(), t.Null()]) });
const PlanSchema = t.Object({
  max_upload_size_bytes: t.Integer(),
  storage_quota_bytes: t.Union([t.Integer(), t.Null()], { description: 'null = unlimited' }),
  max_files: t.Union([t.Integer(), t.Null()], { description: 'null = unlimited' }),
  rate_limits: t.Record(t.String(), RateRuleSchema, { description: 'The buckets that count this account, each with its rule; empty when limits are disabled. Admins and promoted accounts are exempt from the per-account ones (`api`, `upload_count`, `upload_bytes`, `upload_concurrency`), so theirs are not listed.' }),
});
const SettingsSchema = t.Object(
  {
    public_url_base: t.Union([t.String(), t.Null()], { description: 'Base of every URL returned for your files (e.g. a CDN); null = `PUBLIC_URL`.' }),
    max_upload_size_bytes: t.Integer({ description: 'Per-file upload limit on every upload path, at most the plan\'s.' }),
    default_is_public: t.Boolean({ description: 'Visibility of uploads that do not set `is_public`.' }),
    default_expires_in: t.Union([t.Integer(), t.Null()], { description: 'Seconds until uploads that set no expiry expire; null = never.' }),
    embeds_enabled: t.Boolean({ description: 'Public files get an embed page `/v/:id` (OpenGraph/Twitter cards, oEmbed) for link previews in chat apps. Turned off, those pages and `/api/oembed` answer 404 for your files.' }),
    watermarks: t.Record(t.String(), t.String(), {
      description: 'Named watermarks for `l_wm:<name>` (TRANSFORMS.md): name → image-layer spec `l_<file id>[,lg_…,lx_…,ly_…,lw_…,lo_…]`, the file an image of this account.',
    }),
    force_watermark: t.Union([t.String(), t.Null()], {
      description: 'A watermark name drawn on every unsigned `/t` render of your images; public `/i` and `/d` originals and video renditions are then refused (403). Signed URLs and share links are not forced. null = none.',
    }),
  },
  { title: 'Settings' },
);
const SettingsPatchBody = t.Object(
  {
    public_url_base: t.Optional(t.Union([t.String({ maxLength: 2048 }), t.Null()])),
    max_upload_size_bytes: t.Optional(t.Integer({ minimum: 1 })),
    default_is_public: t.Optional(t.Boolean()),
    default_expires_in: t.Optional(t.Union([t.Integer({ minimum: 60, maximum: 10 * 365 * 86400 }), t.Null()])),
    embeds_enabled: t.Optional(t.Boolean()),
    // Checked by checkWatermarkPatch on the value as sent.
    watermarks: t.Optional(uncheckedMap({ type: 'string', minLength: 1, maxLength: 256 }, { maxProperties: MAX_WATERMARKS, description: 'Replaces the whole map of named watermarks.' })),
    force_watermark: t.Optional(t.Union([t.String({ maxLength: 32 }), t.Null()])),
  },
  // A body /docs can send as it is (generated from the properties it was a 400: a watermark named "additionalProperty").
  { additionalProperties: false, examples: [{ default_is_public: false, default_expires_in: 604800 }] },
);

export function accountRoutes(deps: AppDeps) {
  const resolver = deps.credentials;
  // The possible plans, computed once: the profile is the hot path of the auth benchmark.
  const plans = { user: planOf(deps.config, false), admin: planOf(deps.config, false, true), promoted: planOf(deps.config, true) };
  // The body per cached user entry: a new entry (any change to the user) gets a new body.
  const bodies = new WeakMap<CachedUser, string>();
  const profileBody = (user: CachedUser) => {
    let body = bodies.get(user);
    if (body === undefined) {
      body = JSON.stringify({ user: toUserJson(user), plan: plans[user.isPromoted ? 'promoted' : user.role === 'admin' ? 'admin' : 'user'] });
      bodies.set(user, body);
    }
    return body;
  };
  return new Elysia({ name: 'pictor.account.routes', prefix: '/api', detail: { tags: ['account'] } })
    .use(authGuard(deps))
    .get(
      '/profile',
      async ({ principal }) => {
        const user = await resolver.getUser(principal.userId);
        if (!user) throw unauthorized();
        // Pre-serialised: the schema below documents it, and its values were built from typed rows.
        // Its length declared, so the request log can tell its size (it read "stream").
        const body = profileBody(user);
        return new Response(body, { headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) } });
      },
      {
        auth: 'account:read',
        response: { 200: t.Object({ user: UserSchema, plan: PlanSchema }), ...errorResponses(401, 403, 429) },
        detail: { summary: 'Who am I, and my plan' },
      },
    )
    .get(
      '/settings',
      async ({ principal }) => {
        const settings = await getSettings(deps.db, deps.config, principal.userId);
        if (!settings) throw unauthorized();
        return { ...settings, ...(await getWatermarkSettings(deps, principal.userId)) };
      },
      { auth: 'account:read', response: { 200: SettingsSchema, ...errorResponses(401, 403, 429) }, detail: { summary: 'Account settings' } },
    )
    .patch(
      '/settings',
      async ({ principal, body }) => {
        const { watermarks, force_watermark, ...rest } = body;
        const marks = await checkWatermarkPatch(deps, principal.userId, { watermarks, force_watermark });
        const now = new Date(deps.clock.now());
        const settings = await updateSettings(deps.db, deps.config, principal.userId, principal.isPromoted, rest, now);
        if (!settings) throw unauthorized();
        await applyWatermarkPatch(deps, principal.userId, marks, now);
        return { ...settings, ...(await getWatermarkSettings(deps, principal.userId)) };
      },
      {
        auth: 'account:write',
        ...strict(SettingsPatchBody),
        response: { 200: SettingsSchema, ...errorResponses(400, 401, 403, 429) },
        detail: { summary: 'Change account settings', description: '`max_upload_size_bytes` ≤ the plan; `public_url_base` an http(s) URL or null.' },
      },
    );
}
