import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { api, errorText, takeSessionEnded, type Profile, type ServerInfo } from '../api';
import { BusyButton } from '../components/BusyButton';

type Done = (p: Profile | null) => void;

function useForm() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const run = async (fn: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError('');
    setNotice('');
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, notice, setNotice, run };
}

function Card({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <section class="card auth">
      <h1>{title}</h1>
      {children}
    </section>
  );
}

function Messages({ error, notice }: { error: string; notice: string }) {
  return (
    <>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
    </>
  );
}

const field = (e: Event) => (e.currentTarget as HTMLInputElement).value;

export function SignIn({ onDone }: { onDone: Done }) {
  const f = useForm();
  const [ended] = useState(takeSessionEnded);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    void f.run(async () => {
      await api('POST', '/api/auth/login', { email, password });
      onDone(await api<Profile>('GET', '/api/profile'));
    });
  };
  return (
    <Card title="Sign in to Pictor">
      {ended && <p class="notice" role="status">You were signed out: your session ended (it expired, or was signed out from another device). Sign in again to carry on.</p>}
      <form onSubmit={submit}>
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(field(e))} />
        <label for="password">Password</label>
        <input id="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(field(e))} />
        <Messages error={f.error} notice={f.notice} />
        <BusyButton type="submit" class="primary" busy={f.busy}>{f.busy ? 'Signing in…' : 'Sign in'}</BusyButton>
      </form>
      <p class="alt">
        <a href="/forgot-password">Forgot your password?</a> · <a href="/register">Create an account</a>
      </p>
    </Card>
  );
}

export function Register({ info, onDone }: { info: ServerInfo; onDone: Done }) {
  const f = useForm();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // A sign-up link from an admin carries its code (`/register?invite=INV-…`).
  const [linked] = useState(() => new URLSearchParams(location.search).get('invite') ?? '');
  const [invite, setInvite] = useState(linked);
  const inviteOnly = info.registration?.invite_only === true;
  const submit = (e: Event) => {
    e.preventDefault();
    void f.run(async () => {
      const out = await api<{ session?: unknown; message?: string }>('POST', '/api/auth/register', {
        email,
        password,
        ...(inviteOnly || invite ? { invite_code: invite } : {}),
      });
      if (out.session) onDone(await api<Profile>('GET', '/api/profile'));
      else f.setNotice(out.message ?? 'Check your email to confirm your account.');
    });
  };
  return (
    <Card title="Create your account">
      <form onSubmit={submit}>
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(field(e))} />
        <label for="password">Password (at least 8 characters)</label>
        <input id="password" type="password" autocomplete="new-password" minLength={8} required value={password} onInput={(e) => setPassword(field(e))} />
        {(inviteOnly || linked !== '') && (
          <>
            <label for="invite">Invite code</label>
            <input id="invite" required={inviteOnly} placeholder="INV-…" value={invite} onInput={(e) => setInvite(field(e))} />
          </>
        )}
        <Messages error={f.error} notice={f.notice} />
        <BusyButton type="submit" class="primary" busy={f.busy}>{f.busy ? 'Creating…' : 'Create account'}</BusyButton>
      </form>
      <p class="alt">
        Already registered? <a href="/login">Sign in</a>
      </p>
    </Card>
  );
}

export function Forgot() {
  const f = useForm();
  const [email, setEmail] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    void f.run(async () => {
      await api('POST', '/api/auth/forgot-password', { email });
      f.setNotice('If an account uses this address, a link to choose a new password is on its way. It works for one hour.');
    });
  };
  return (
    <Card title="Forgot your password?">
      <form onSubmit={submit}>
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(field(e))} />
        <Messages error={f.error} notice={f.notice} />
        <BusyButton type="submit" class="primary" busy={f.busy}>Send the link</BusyButton>
      </form>
      <p class="alt"><a href="/login">Back to sign in</a></p>
    </Card>
  );
}
