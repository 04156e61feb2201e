import { useEffect, useRef, useState } from 'preact/hooks';
import { api, formatBytes, type Profile, type Usage } from '../api';
import { navigate } from '../router';

export function Header({ profile, usageTick, onSignedOut }: { profile: Profile | null; usageTick: number; onSignedOut: () => void }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const latest = useRef(0);
  useEffect(() => {
    if (!profile) return;
    // Several uploads finishing at once: only the newest answer counts.
    const n = ++latest.current;
    api<Usage>('GET', '/api/usage')
      .then((u) => n === latest.current && setUsage(u))
      .catch(() => undefined);
  }, [profile, usageTick]);

  const signOut = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    onSignedOut();
    navigate('/login');
  };
  const quota = profile?.plan.storage_quota_bytes ?? null;
  const share = usage && quota ? Math.min(100, (usage.storage_bytes / quota) * 100) : 0;

  return (
    <header class="top">
      <a class="brand" href="/">Pictor</a>
      {profile && usage && (
        <div class="usage" title="Storage used this month">
          <span>
            {formatBytes(usage.storage_bytes)}
            {quota ? ` of ${formatBytes(quota)}` : ''} · {usage.files_count} {usage.files_count === 1 ? 'file' : 'files'}
          </span>
          {quota ? <progress max={100} value={share} aria-label="Storage used" /> : null}
        </div>
      )}
      <nav class="top-nav" aria-label="Account">
        <a href="/docs">API docs</a>
        {profile ? (
          <>
            <a href="/account" title="Your account">{profile.user.email}</a>
            <button type="button" class="link" onClick={signOut}>Sign out</button>
          </>
        ) : (
          <a href="/login">Sign in</a>
        )}
      </nav>
    </header>
  );
}
