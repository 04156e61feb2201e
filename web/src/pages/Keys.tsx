/**
 * API keys (issue #21): create one with a name, scopes and an optional expiry, see the clear
 * key once, list, rename and re-scope, revoke after a confirmation. Session-only endpoints of
 * API.md §2; the clear key lives only in this component's state until "Done".
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, formatWhen, type Profile } from '../api';
import { CopyField } from '../components/Copy';
import { SCOPE_HELP, type ApiKey, type CreatedKey } from '../components/scopes';
import { BusyButton } from '../components/BusyButton';
import { OutcomeLine, type Outcome } from '../components/Outcome';

type Msg = Outcome;

/** The scope checkboxes, each with its meaning; `admin` only for admins. */
function ScopePicker({ idPrefix, value, onChange, isAdmin }: { idPrefix: string; value: string[]; onChange: (s: string[]) => void; isAdmin: boolean }) {
  const toggle = (scope: string, on: boolean) => onChange(on ? [...value, scope] : value.filter((s) => s !== scope));
  return (
    <fieldset class="scopes">
      <legend>Scopes</legend>
      {SCOPE_HELP.filter((s) => !s.adminOnly || isAdmin).map(({ scope, meaning }) => {
        const id = `${idPrefix}-${scope.replace(':', '-')}`;
        return (
          <div class="scope" key={scope}>
            <input type="checkbox" id={id} checked={value.includes(scope)} onChange={(e) => toggle(scope, (e.currentTarget as HTMLInputElement).checked)} aria-describedby={`${id}-help`} />
            <label for={id}><code>{scope}</code></label>
            <span id={`${id}-help`} class="scope-help">{meaning}</span>
          </div>
        );
      })}
    </fieldset>
  );
}

/** End of the chosen day in this browser's time zone, as the API's ISO-8601. */
const endOfDay = (date: string) => new Date(`${date}T23:59:59`).toISOString();
/** Today in this browser's time zone (`YYYY-MM-DD`): a key may expire at the end of it at the earliest. */
const today = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);

/** A key's name as people read it: a name of only spaces (possible through the API) reads as none. */
const nameOf = (k: ApiKey) => k.name?.trim() || null;

function KeyRow({ k, isAdmin, onChanged, onRevoked }: { k: ApiKey; isAdmin: boolean; onChanged: (k: ApiKey) => void; onRevoked: (k: ApiKey, already: boolean) => void }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [name, setName] = useState(k.name ?? '');
  const [scopes, setScopes] = useState(k.scopes);
  const [msg, setMsg] = useState<Msg>(null);
  const label = nameOf(k) ?? k.key_prefix;
  const expired = k.expires_at !== null && new Date(k.expires_at).getTime() <= Date.now();
  // Where the focus goes once the row has re-rendered: the control that replaced the one pressed
  // (it fell to <body> when the pressed button left the page).
  const focusNext = useRef<string | null>(null);
  const rowId = `key-${k.id}`;
  useEffect(() => {
    if (!focusNext.current) return;
    document.getElementById(focusNext.current)?.focus();
    focusNext.current = null;
  });
  const show = (state: 'editing' | 'confirming' | 'idle', focus: string) => {
    focusNext.current = focus;
    setEditing(state === 'editing');
    setConfirming(state === 'confirming');
  };
  const cancelEdit = () => {
    setName(k.name ?? '');
    setScopes(k.scopes);
    setMsg(null);
    show('idle', `${rowId}-edit`);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (scopes.length === 0) return setMsg({ ok: false, text: 'Choose at least one scope.' });
    try {
      onChanged(await api<ApiKey>('PATCH', `/api/auth/api-keys/${k.id}`, { name: name.trim() || null, scopes }));
      show('idle', `${rowId}-edit`);
      setMsg({ ok: true, text: 'Saved.' });
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  const revoke = async () => {
    try {
      await api('DELETE', `/api/auth/api-keys/${k.id}`);
      onRevoked(k, false);
    } catch (err) {
      // Revoked meanwhile (another tab, a script): the row goes, saying so; the error kept it on screen.
      if (err instanceof ApiError && err.status === 404) onRevoked(k, true);
      else setMsg({ ok: false, text: errorText(err) });
    }
  };

  return (
    <li class="key" aria-label={`Key ${label}`}>
      <div class="key-head">
        <h3>{nameOf(k) ?? <span class="muted">Unnamed key</span>}</h3>
        <code class="prefix" title="The key's first characters">{k.key_prefix}…</code>
        {expired && <span class="badge bad">expired</span>}
      </div>
      <ul class="chips" aria-label="Scopes">
        {k.scopes.map((s) => <li key={s} class={s === 'admin' ? 'chip warn' : 'chip'}>{s}</li>)}
      </ul>
      <dl class="key-facts">
        <div><dt>Created</dt><dd>{formatWhen(k.created_at)}</dd></div>
        <div><dt>Last used</dt><dd>{formatWhen(k.last_used_at)}</dd></div>
        <div><dt>Expires</dt><dd>{formatWhen(k.expires_at)}</dd></div>
      </dl>
      {editing ? (
        <form class="key-edit" onSubmit={save} onKeyDown={(e) => e.key === 'Escape' && (e.preventDefault(), cancelEdit())}>
          <label for={`name-${k.id}`}>Name</label>
          <input id={`name-${k.id}`} value={name} maxLength={100} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          <ScopePicker idPrefix={`edit-${k.id}`} value={scopes} onChange={setScopes} isAdmin={isAdmin} />
          <div class="actions">
            <button type="submit" class="primary">Save changes</button>
            <button type="button" onClick={cancelEdit}>Cancel</button>
          </div>
        </form>
      ) : confirming ? (
        <div class="confirm" role="group" aria-label={`Revoke ${label}?`} onKeyDown={(e) => e.key === 'Escape' && show('idle', `${rowId}-revoke`)}>
          <p>Revoke <strong>{label}</strong>? Every program using it is refused at once. This cannot be undone.</p>
          <div class="actions">
            <button type="button" class="danger solid" onClick={revoke}>Yes, revoke {label}</button>
            <button type="button" id={`${rowId}-keep`} onClick={() => show('idle', `${rowId}-revoke`)}>Keep it</button>
          </div>
        </div>
      ) : (
        <div class="actions">
          <button type="button" id={`${rowId}-edit`} onClick={() => { setMsg(null); show('editing', `name-${k.id}`); }} aria-label={`Edit ${label}`}>Rename or re-scope</button>
          <button type="button" id={`${rowId}-revoke`} class="danger" onClick={() => show('confirming', `${rowId}-keep`)} aria-label={`Revoke ${label}`}>Revoke</button>
        </div>
      )}
      <OutcomeLine outcome={msg} />
    </li>
  );
}

export function Keys({ profile }: { profile: Profile }) {
  const isAdmin = profile.user.role === 'admin';
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState('');
  const [scopes, setScopes] = useState<string[]>(['files:read', 'files:write']);
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [msg, setMsg] = useState<Msg>(null);
  const [listMsg, setListMsg] = useState('');
  const [busy, setBusy] = useState(false);
  // The secret is shown once, above the form: bring it into view and focus, wherever the form was scrolled to.
  useEffect(() => {
    if (!created) return;
    const panel = document.querySelector<HTMLElement>('.new-key');
    panel?.scrollIntoView({ block: 'start' });
    document.getElementById('new-key-value')?.focus();
  }, [created?.key]);

  const load = () =>
    api<{ results: ApiKey[] }>('GET', '/api/auth/api-keys')
      .then((r) => setKeys(r.results))
      .catch((err) => setError(errorText(err)));
  useEffect(() => void load(), []);

  const create = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setMsg(null);
    // A key shown once must not be pushed off the page by the next one before it is saved.
    if (created) return setMsg({ ok: false, text: 'First copy the new key shown above and press “I have saved it”: it cannot be shown again.' });
    if (!name.trim()) {
      // At the field, marked and focused: where the thing to fix is.
      setNameError('Give the key a name, so you can tell later what uses it (and what stops working when you revoke it).');
      document.getElementById('key-name')?.focus();
      return;
    }
    if (scopes.length === 0) return setMsg({ ok: false, text: 'Choose at least one scope: a key without any can do nothing.' });
    // A half-typed date reads as '' (no expiry): it made a key that never expires, without a word.
    const date = document.getElementById('key-expires') as HTMLInputElement | null;
    if (date?.validity.badInput) {
      date.focus();
      return setMsg({ ok: false, text: 'Finish the expiry date, or clear it for a key that never expires.' });
    }
    if (expires && expires < today()) {
      date?.focus();
      return setMsg({ ok: false, text: 'The expiry date has passed: choose today or a later day.' });
    }
    setBusy(true);
    try {
      const k = await api<CreatedKey>('POST', '/api/auth/api-keys', {
        name: name.trim(),
        scopes,
        ...(expires ? { expires_at: endOfDay(expires) } : {}),
      });
      setCreated(k);
      setName('');
      setExpires('');
      await load();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>API keys</h1>
        <p class="lede">Keys let scripts, apps and screenshot tools use your account without your password. Give each program its own key with only the scopes it needs; revoke it when you stop using it. Send it as <code>Authorization: Bearer pk_…</code> or <code>X-API-Key</code>.</p>
      </div>

      {created && (
        <section class="card new-key" aria-labelledby="new-key-title">
          <h2 id="new-key-title">Your new key{created.name ? ` “${created.name}”` : ''}</h2>
          <p class="warning" role="alert"><strong>Copy it now: this is the only time it is shown.</strong> Pictor keeps only a hash of it, so it cannot show it again. Anyone holding it can act on your account within its scopes — keep it out of code you share.</p>
          <CopyField id="new-key-value" label="API key" value={created.key} />
          <p class="muted">Scopes: {created.scopes.join(', ')} · expires {formatWhen(created.expires_at)}</p>
          <button type="button" onClick={() => { setCreated(null); setMsg(null); document.getElementById('key-name')?.focus(); }}>I have saved it</button>
        </section>
      )}

      <div class="split keys-split">
        <section class="card" aria-labelledby="create-title">
          <h2 id="create-title">Create a key</h2>
          <form class="stack" onSubmit={create} noValidate>
            <label for="key-name">Name <span class="muted">(what uses it, e.g. “backup script”)</span></label>
            <input id="key-name" value={name} maxLength={100} aria-required="true" aria-invalid={nameError ? true : undefined} aria-describedby={nameError ? 'key-name-error' : undefined}
              onInput={(e) => { setName((e.currentTarget as HTMLInputElement).value); setNameError(''); }} />
            {nameError && <p id="key-name-error" class="error" role="alert">{nameError}</p>}
            <ScopePicker idPrefix="new" value={scopes} onChange={setScopes} isAdmin={isAdmin} />
            <label for="key-expires">Expires on <span class="muted">(optional; empty = never)</span></label>
            <input id="key-expires" type="date" min={today()} value={expires} onInput={(e) => setExpires((e.currentTarget as HTMLInputElement).value)} />
            <OutcomeLine outcome={msg} />
            <BusyButton type="submit" class="primary" busy={busy}>Create key</BusyButton>
          </form>
        </section>

        <section class="card" aria-labelledby="list-title">
          <h2 id="list-title" tabIndex={-1}>Your keys {keys && <span class="count">({keys.length})</span>}</h2>
          {error && <p class="error" role="alert">{error}</p>}
          <p class="notice" role="status">{listMsg}</p>
          {!keys && !error && <p class="loading" role="status">Loading keys…</p>}
          {keys?.length === 0 && <p class="empty">No API keys yet. Create one to use Pictor from a script or app.</p>}
          {keys && keys.length > 0 && (
            <ul class="keys">
              {keys.map((k) => (
                <KeyRow
                  key={k.id}
                  k={k}
                  isAdmin={isAdmin}
                  onChanged={(u) => setKeys((ks) => ks?.map((x) => (x.id === u.id ? u : x)) ?? null)}
                  onRevoked={(r, already) => {
                    setKeys((ks) => ks?.filter((x) => x.id !== r.id) ?? null);
                    setListMsg(already ? `${nameOf(r) ?? r.key_prefix} had already been revoked (elsewhere).` : `${nameOf(r) ?? r.key_prefix} was revoked: it is refused from now on.`);
                    // Its row, and the button pressed, are gone: the list's heading takes the focus.
                    document.getElementById('list-title')?.focus();
                  }}
                />
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
