/**
 * Account settings (issue #21, API.md §3): public URL base, default visibility and expiry of
 * uploads, the per-file upload limit bounded by the plan (shown beside it). Saving sends only
 * what changed and says what it was. Settings other modules add to `GET /api/settings` that
 * are yes/no appear as switches without a change here (described by the OpenAPI document).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, formatBytes, formatSpan, type Profile } from '../api';
import { BusyButton } from '../components/BusyButton';

type Value = string | number | boolean | null;
type SettingsDoc = Record<string, Value> & {
  public_url_base: string | null;
  max_upload_size_bytes: number;
  default_is_public: boolean;
  default_expires_in: number | null;
};
type OpenApiDoc = {
  paths?: Record<string, { get?: { responses?: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, { description?: string }> } }> }> } }>;
};
const KNOWN = new Set(['public_url_base', 'max_upload_size_bytes', 'default_is_public', 'default_expires_in']);

const MiB = 1024 * 1024;
const EXPIRIES: [number | null, string][] = [
  [null, 'Never'], [3600, 'After 1 hour'], [86_400, 'After 1 day'], [7 * 86_400, 'After 7 days'],
  [30 * 86_400, 'After 30 days'], [90 * 86_400, 'After 90 days'], [365 * 86_400, 'After 1 year'],
];
const expiryText = (s: number | null) => EXPIRIES.find(([v]) => v === s)?.[1] ?? `After ${formatSpan(s ?? 0)}`;
const humanise = (key: string) => key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

const LABELS: Record<string, (v: Value) => string> = {
  public_url_base: (v) => (v ? String(v) : 'the server’s own (PUBLIC_URL)'),
  default_is_public: (v) => (v ? 'public' : 'private'),
  default_expires_in: (v) => expiryText(v as number | null).toLowerCase(),
  max_upload_size_bytes: (v) => formatBytes(v as number),
};
const NAMES: Record<string, string> = {
  public_url_base: 'Public URL base',
  default_is_public: 'Default visibility',
  default_expires_in: 'Default expiry',
  max_upload_size_bytes: 'Upload limit per file',
};
const show = (k: string, v: Value) => (LABELS[k] ? LABELS[k](v) : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v));

/** The fields a refusal can point at. */
type FieldId = 'public-url-base' | 'upload-limit';

export function Settings({ profile }: { profile: Profile }) {
  const plan = profile.plan;
  const [saved, setSaved] = useState<SettingsDoc | null>(null);
  const [draft, setDraft] = useState<SettingsDoc | null>(null);
  const [limitMb, setLimitMb] = useState('');
  const [extraHelp, setExtraHelp] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [errorField, setErrorField] = useState<FieldId | null>(null);
  const [changes, setChanges] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);

  const adopt = (s: SettingsDoc) => {
    setSaved(s);
    setDraft(s);
    setLimitMb(String(Math.round((s.max_upload_size_bytes / MiB) * 10) / 10));
  };
  useEffect(() => {
    api<SettingsDoc>('GET', '/api/settings')
      .then((s) => {
        adopt(s);
        // Other modules' yes/no settings: their descriptions come from the API's own document.
        if (Object.keys(s).some((k) => !KNOWN.has(k))) {
          fetch('/openapi.json')
            .then((r) => r.json())
            .then((doc: OpenApiDoc) => {
              const props = doc.paths?.['/api/settings']?.get?.responses?.['200']?.content?.['application/json']?.schema?.properties ?? {};
              // Descriptions are Markdown: shown as plain text.
              setExtraHelp(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, (p.description ?? '').replace(/`/g, '')])));
            })
            .catch(() => undefined);
        }
      })
      .catch((err) => setError(errorText(err)));
  }, []);

  if (error && !saved) return <div class="narrow"><p class="error" role="alert">{error}</p></div>;
  if (!saved || !draft) return <p class="loading" role="status">Loading settings…</p>;

  const set = (k: string, v: Value) => setDraft({ ...draft, [k]: v });
  const planMb = plan.max_upload_size_bytes / MiB;
  const extras = Object.keys(saved).filter((k) => !KNOWN.has(k) && typeof saved[k] === 'boolean');
  /** A field's help, and its error when it is the one refused. */
  const fieldState = (id: FieldId) => ({
    'aria-describedby': errorField === id ? `settings-error ${id}-help` : `${id}-help`,
    'aria-invalid': errorField === id ? true : undefined,
  });

  /** A refusal of one field: shown under it, the field marked and focused (a line under the form was far from it). */
  const refuseField = (id: FieldId, text: string) => {
    setError(text);
    setErrorField(id);
    document.getElementById(id)?.focus();
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError('');
    setErrorField(null);
    setChanges(null);
    const mb = Number(limitMb);
    if (!Number.isFinite(mb) || mb <= 0) return refuseField('upload-limit', 'The upload limit must be a positive number of MiB (mebibytes, 1 MiB = 1,048,576 bytes).');
    // The field shows 0.1 MiB steps: the plan's own value rounded up is still the plan's.
    const bytes = Math.abs(mb * MiB - plan.max_upload_size_bytes) < MiB / 20 ? plan.max_upload_size_bytes : Math.round(mb * MiB);
    if (bytes > plan.max_upload_size_bytes) return refuseField('upload-limit', `The upload limit can be at most your plan’s ${formatBytes(plan.max_upload_size_bytes)}.`);
    const next: SettingsDoc = { ...draft, max_upload_size_bytes: bytes };
    const base = typeof next.public_url_base === 'string' ? next.public_url_base.trim() : '';
    next.public_url_base = base === '' ? null : base;
    if (base !== '' && !isUrlBase(base)) {
      return refuseField('public-url-base', 'The public URL base must be a whole address starting with https:// or http://, such as https://cdn.example.com, without ?, # or a user name.');
    }
    const patch: Record<string, Value> = {};
    for (const k of Object.keys(next)) if (next[k] !== saved[k] && (KNOWN.has(k) || extras.includes(k))) patch[k] = next[k]!;
    // An unchanged limit shown rounded to 0.1 MiB is not a change.
    if ('max_upload_size_bytes' in patch && Math.abs((patch.max_upload_size_bytes as number) - saved.max_upload_size_bytes) < MiB / 20) delete patch.max_upload_size_bytes;
    if (Object.keys(patch).length === 0) return setChanges([]);
    setBusy(true);
    try {
      const updated = await api<SettingsDoc>('PATCH', '/api/settings', patch);
      setChanges(Object.keys(patch).map((k) => `${NAMES[k] ?? humanise(k)}: ${show(k, saved[k] ?? null)} → ${show(k, updated[k] ?? null)}`));
      adopt(updated);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const expiryOptions = EXPIRIES.some(([v]) => v === draft.default_expires_in) ? EXPIRIES : [...EXPIRIES, [draft.default_expires_in, expiryText(draft.default_expires_in)] as [number | null, string]];

  return (
    <div class="page">
      <div class="page-head">
        <h1>Settings</h1>
        <p class="lede">Defaults for everything you upload, from this app, the API or a screenshot tool. An upload can still choose its own visibility and expiry.</p>
      </div>
      <div class="split">
        <form class="card stack" noValidate onSubmit={save} aria-labelledby="settings-title">
          <h2 id="settings-title">Uploads and links</h2>

          <label for="public-url-base">Public URL base</label>
          <input id="public-url-base" type="url" inputMode="url" placeholder="https://images.example.com" value={draft.public_url_base ?? ''} {...fieldState('public-url-base')}
            onInput={(e) => set('public_url_base', (e.currentTarget as HTMLInputElement).value)} />
          {errorField === 'public-url-base' && <p id="settings-error" class="error" role="alert">{error}</p>}
          <p id="public-url-base-help" class="help">Every link the API gives for your files starts with this, e.g. a CDN in front of Pictor. Empty: the address the server was set up with (its <code>PUBLIC_URL</code>).</p>

          <fieldset class="radios">
            <legend>Default visibility of new uploads</legend>
            <label class="check"><input type="radio" name="visibility" checked={draft.default_is_public} onChange={() => set('default_is_public', true)} /> Public — anyone with the link can open it</label>
            <label class="check"><input type="radio" name="visibility" checked={!draft.default_is_public} onChange={() => set('default_is_public', false)} /> Private — only you, plus the share links and signed URLs you make</label>
          </fieldset>

          <label for="default-expiry">Default expiry of new uploads</label>
          <select id="default-expiry" value={String(draft.default_expires_in)} aria-describedby="default-expiry-help"
            onChange={(e) => { const v = (e.currentTarget as HTMLSelectElement).value; set('default_expires_in', v === 'null' ? null : Number(v)); }}>
            {expiryOptions.map(([v, text]) => <option key={String(v)} value={String(v)}>{text}</option>)}
          </select>
          <p id="default-expiry-help" class="help">Expired files answer 410 Gone and are deleted soon after.</p>

          <label for="upload-limit">Upload limit per file (MiB)</label>
          <input id="upload-limit" type="number" min={0.1} step={0.1} max={Math.floor(planMb * 10) / 10} value={limitMb} {...fieldState('upload-limit')}
            onInput={(e) => setLimitMb((e.currentTarget as HTMLInputElement).value)} />
          {errorField === 'upload-limit' && <p id="settings-error" class="error" role="alert">{error}</p>}
          <p id="upload-limit-help" class="help">At most your plan’s {formatBytes(plan.max_upload_size_bytes)}. A lower limit guards against uploading something huge by mistake.</p>

          {extras.length > 0 && (
            <fieldset class="radios">
              <legend>More</legend>
              {extras.map((k) => (
                <div class="extra" key={k}>
                  <label class="check">
                    <input type="checkbox" checked={Boolean(draft[k])} aria-describedby={`${k}-help`} onChange={(e) => set(k, (e.currentTarget as HTMLInputElement).checked)} />
                    {humanise(k)}
                  </label>
                  <p id={`${k}-help`} class="help">{extraHelp[k] ?? ''}</p>
                </div>
              ))}
            </fieldset>
          )}

          {error && !errorField && <p class="error" role="alert">{error}</p>}
          <div role="status" class="saved">
            {changes && changes.length === 0 && <p class="muted">Nothing changed.</p>}
            {changes && changes.length > 0 && (
              <>
                <p class="notice">Saved. What changed:</p>
                <ul class="changes">{changes.map((c) => <li key={c}>{c}</li>)}</ul>
              </>
            )}
          </div>
          <BusyButton type="submit" class="primary" busy={busy}>Save settings</BusyButton>
        </form>

        <section class="card" aria-labelledby="plan-title">
          <h2 id="plan-title">Your plan</h2>
          <dl class="facts">
            <dt>Largest upload</dt>
            <dd>{formatBytes(plan.max_upload_size_bytes)}</dd>
            <dt>Storage</dt>
            <dd>{plan.storage_quota_bytes ? formatBytes(plan.storage_quota_bytes) : 'unlimited'}</dd>
            <dt>Files</dt>
            <dd>{plan.max_files ? plan.max_files.toLocaleString() : 'unlimited'}</dd>
          </dl>
          <p class="help">What you use of it, and the rate limits, are on the <a href="/usage">usage page</a>.</p>
        </section>
      </div>
    </div>
  );
}

/** What the API takes as `public_url_base`: an http(s) URL without query, fragment or credentials. */
function isUrlBase(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.search && !u.hash && !u.username && !u.password && !text.includes('?') && !text.includes('#');
  } catch {
    return false;
  }
}
