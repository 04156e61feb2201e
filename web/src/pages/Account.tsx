import { useState } from 'preact/hooks';
import { api, errorText, formatBytes, type Profile } from '../api';
import { navigate } from '../router';

export function Account({ profile, onSignedOut }: { profile: Profile; onSignedOut: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const change = async (e: Event) => {
    e.preventDefault();
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
  const everywhere = async () => {
    try {
      await api('POST', '/api/auth/logout-all');
      onSignedOut();
      navigate('/login');
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
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
      <section class="card">
        <h2>Change password</h2>
        <form onSubmit={change}>
          <label for="current">Current password</label>
          <input id="current" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent((e.currentTarget as HTMLInputElement).value)} />
          <label for="new">New password (at least 8 characters)</label>
          <input id="new" type="password" autocomplete="new-password" minLength={8} required value={next} onInput={(e) => setNext((e.currentTarget as HTMLInputElement).value)} />
          {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
          <button type="submit" class="primary" disabled={busy}>Change password</button>
        </form>
      </section>
      <section class="card">
        <h2>Sessions</h2>
        <p>Signs out every browser and app using your account, this one included. API keys keep working.</p>
        <button type="button" class="danger" onClick={everywhere}>Sign out everywhere</button>
      </section>
    </div>
  );
}
