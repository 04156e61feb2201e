import { useEffect, useState } from 'preact/hooks';
import { api, errorText, formatBytes, formatWhen, type Profile } from '../api';
import { describeAgent } from '../components/agent';
import { navigate } from '../router';
import { BusyButton } from '../components/BusyButton';
import { OutcomeLine, type Outcome } from '../components/Outcome';
import { FormDialog } from '../components/Dialog';

interface SessionInfo {
  id: string;
  created_at: string;
  last_active_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

type Message = Outcome;

export function Account({ profile, onSignedOut }: { profile: Profile; onSignedOut: () => void }) {
  const plan = profile.plan;
  return (
    <div class="narrow">
      <section class="card">
        <h1>Your account</h1>
        <dl class="facts">
          <dt>Email</dt>
          <dd>{profile.user.email}</dd>
          <dt>Role</dt>
          <dd>{profile.user.role}</dd>
          <dt>Largest upload</dt>
          <dd>{formatBytes(plan.max_upload_size_bytes)}</dd>
          <dt>Storage quota</dt>
          <dd>{plan.storage_quota_bytes ? formatBytes(plan.storage_quota_bytes) : 'unlimited'}</dd>
        </dl>
      </section>
      <ChangePassword />
      <Sessions onSignedOut={onSignedOut} />
    </div>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);
  const change = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setMessage(null);
    try {
      await api('POST', '/api/auth/change-password', { current_password: current, new_password: next });
      setMessage({ ok: true, text: 'Your password was changed. Your other sessions were signed out.' });
      setCurrent('');
      setNext('');
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card">
      <h2>Change password</h2>
      <form onSubmit={change}>
        <label for="current">Current password</label>
        <input id="current" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent((e.currentTarget as HTMLInputElement).value)} />
        <label for="new">New password (at least 8 characters)</label>
        <input id="new" type="password" autocomplete="new-password" minLength={8} required value={next} onInput={(e) => setNext((e.currentTarget as HTMLInputElement).value)} />
        <OutcomeLine outcome={message} />
        <BusyButton type="submit" class="primary" busy={busy}>Change password</BusyButton>
      </form>
    </section>
  );
}

/** Where the account is signed in (`/api/auth/sessions`): sign one out, or all of them. */
function Sessions({ onSignedOut }: { onSignedOut: () => void }) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const load = () => api<{ results: SessionInfo[] }>('GET', '/api/auth/sessions')
    .then((r) => setSessions([...r.results].sort((a, b) => Number(b.current) - Number(a.current)))) // this browser first
    .catch((err) => setMessage({ ok: false, text: errorText(err) }));
  useEffect(() => void load(), []);

  const signOut = async (s: SessionInfo) => {
    setMessage(null);
    try {
      await api('DELETE', `/api/auth/sessions/${s.id}`);
      setSessions((all) => all?.filter((x) => x.id !== s.id) ?? all);
      setMessage({ ok: true, text: `${describeAgent(s.user_agent)} was signed out.` });
      // Its row and button are gone: the list's heading takes the focus (it fell to <body>).
      document.getElementById('sessions-title')?.focus();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const [asking, setAsking] = useState(false);
  /** Runs from the dialog, which shows why when it fails. */
  const everywhere = async () => {
    await api('POST', '/api/auth/logout-all');
    onSignedOut();
    navigate('/login');
  };
  return (
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title" tabIndex={-1}>Where you are signed in</h2>
      <p>Browsers and apps signed in to your account: this one, then the most recently active. API keys are not sessions: they are on the API keys page.</p>
      {sessions === null && !message && <p class="loading" role="status">Loading sessions…</p>}
      {sessions && (
        <ul class="session-list" aria-label="Signed-in sessions">
          {sessions.map((s) => {
            const name = describeAgent(s.user_agent);
            return (
              <li key={s.id} data-session={s.id}>
                <div>
                  <strong title={s.user_agent ?? undefined}>{name}</strong>
                  {s.current && <span class="chip">This browser</span>}
                </div>
                <div class="muted small-text">
                  {s.ip ?? 'address unknown'} · signed in {formatWhen(s.created_at)} · {s.current ? 'active now' : `last active ${formatWhen(s.last_active_at)}`}
                </div>
                {!s.current && (
                  <button type="button" class="small danger" onClick={() => void signOut(s)}>Sign out<span class="sr-only"> {name}, signed in {formatWhen(s.created_at)}</span></button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <OutcomeLine outcome={message} />
      <button type="button" class="danger" onClick={() => setAsking(true)}>Sign out everywhere</button>
      {asking && (
        <FormDialog title="Sign out everywhere?" submit="Sign out everywhere" danger onClose={() => setAsking(false)} onSubmit={everywhere}>
          <p>Every browser and app signed in to your account is signed out, this one included. API keys keep working.</p>
        </FormDialog>
      )}
    </section>
  );
}
