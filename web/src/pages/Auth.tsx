import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { api, errorText, type Profile, type ServerInfo } from '../api';
import { navigate } from '../router';

type Done = (p: Profile | null) => void;

function useForm() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const run = async (fn: () => Promise<void>) => {
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

function Card({ title, children }: { title: string; children: JSX.Element | JSX.Element[] }) {
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
      <form onSubmit={submit}>
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(field(e))} />
        <label for="password">Password</label>
        <input id="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(field(e))} />
        <Messages error={f.error} notice={f.notice} />
        <button type="submit" class="primary" disabled={f.busy}>{f.busy ? 'Signing in…' : 'Sign in'}</button>
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
  const [invite, setInvite] = useState('');
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
        {inviteOnly && (
          <>
            <label for="invite">Invite code</label>
            <input id="invite" required placeholder="INV-…" value={invite} onInput={(e) => setInvite(field(e))} />
          </>
        )}
        <Messages error={f.error} notice={f.notice} />
        <button type="submit" class="primary" disabled={f.busy}>{f.busy ? 'Creating…' : 'Create account'}</button>
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
        <button type="submit" class="primary" disabled={f.busy}>Send the link</button>
      </form>
      <p class="alt"><a href="/login">Back to sign in</a></p>
    </Card>
  );
}

export function Reset({ token }: { token: string }) {
  const f = useForm();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [done, setDone] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    if (password !== again) return void f.run(() => Promise.reject(new Error('The two passwords differ.')));
    void f.run(async () => {
      await api('POST', '/api/auth/reset-password', { token, new_password: password });
      setDone(true);
    });
  };
  if (!token) return <Card title="Link incomplete"><p>This link has no token. Open the link from the email exactly as it was sent.</p></Card>;
  if (done) {
    return (
      <Card title="Password changed">
        <p role="status">Your password has been changed and every session was signed out.</p>
        <button type="button" class="primary" onClick={() => navigate('/login')}>Sign in with the new password</button>
      </Card>
    );
  }
  return (
    <Card title="Choose a new password">
      <form onSubmit={submit}>
        <label for="p1">New password (at least 8 characters)</label>
        <input id="p1" type="password" autocomplete="new-password" minLength={8} required value={password} onInput={(e) => setPassword(field(e))} />
        <label for="p2">Repeat it</label>
        <input id="p2" type="password" autocomplete="new-password" minLength={8} required value={again} onInput={(e) => setAgain(field(e))} />
        <Messages error={f.error} notice={f.notice} />
        <button type="submit" class="primary" disabled={f.busy}>Set the new password</button>
      </form>
    </Card>
  );
}

export function Verify({ token }: { token: string }) {
  const f = useForm();
  const [email, setEmail] = useState('');
  // A click, not the page load, uses the token up: mail scanners open links on their own.
  const confirm = () =>
    void f.run(async () => {
      const out = await api<{ user?: { email: string } }>('POST', '/api/auth/verify-email', { token });
      setEmail(out.user?.email ?? 'Your address');
    });
  if (!token) return <Card title="Link incomplete"><p>This link has no token. Open the link from the email exactly as it was sent.</p></Card>;
  if (email) {
    return (
      <Card title="Email address confirmed">
        <p role="status">{email} is confirmed. You can sign in now.</p>
        <button type="button" class="primary" onClick={() => navigate('/login')}>Sign in</button>
      </Card>
    );
  }
  return (
    <Card title="Confirm your email address">
      <p>Confirm that this email address belongs to your Pictor account.</p>
      <Messages error={f.error} notice={f.notice} />
      <button type="button" class="primary" disabled={f.busy} onClick={confirm}>Confirm my email address</button>
    </Card>
  );
}
