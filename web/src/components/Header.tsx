import { useEffect, useRef, useState } from 'preact/hooks';
import { api, formatBytes, type Profile, type Usage } from '../api';
import { navigate, useRoute } from '../router';
import { useUploadJobs } from '../upload-queue';
import { FormDialog } from './Dialog';

/** The app's sections, in the order the header shows them; `admin` ones only for admins. */
const SECTIONS: { href: string; label: string; admin?: boolean }[] = [
  { href: '/', label: 'Library' },
  { href: '/keys', label: 'API keys' },
  { href: '/integrations', label: 'Integrations' },
  { href: '/logs', label: 'Request log' },
  { href: '/settings', label: 'Settings' },
  { href: '/usage', label: 'Usage' },
  { href: '/jobs', label: 'Jobs' },
  { href: '/admin', label: 'Admin', admin: true },
];
const isCurrent = (href: string, path: string) => (href === '/' ? path === '/' || path.startsWith('/files/') : path === href || path.startsWith(`${href}/`));

export function Header({ profile, usageTick, onSignedOut }: { profile: Profile | null; usageTick: number; onSignedOut: () => void }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const { path } = useRoute();
  const latest = useRef(0);
  useEffect(() => {
    if (!profile) return;
    // Several uploads finishing at once: only the newest answer counts.
    const n = ++latest.current;
    api<Usage>('GET', '/api/usage')
      .then((u) => n === latest.current && setUsage(u))
      .catch(() => undefined);
  }, [profile, usageTick]);

  // On a phone the tabs scroll sideways: keep the current one in view. Only the row scrolls
  // (scrollIntoView would also move the page, undoing the scroll position Back restores).
  useEffect(() => {
    const row = document.querySelector<HTMLElement>('.sections');
    const tab = row?.querySelector<HTMLElement>('[aria-current="page"]');
    if (!row || !tab) return;
    const dx = tab.getBoundingClientRect().left - row.getBoundingClientRect().left;
    if (dx < 0 || dx + tab.offsetWidth > row.clientWidth) row.scrollLeft += dx - 16;
  }, [path, profile]);

  // A row that scrolls fades out at the side with more tabs, so the hidden ones are not a secret.
  const [more, setMore] = useState('');
  useEffect(() => {
    const row = document.querySelector<HTMLElement>('.sections');
    if (!row) return;
    const measure = () => {
      const left = row.scrollLeft > 1;
      const right = row.scrollLeft + row.clientWidth < row.scrollWidth - 1;
      setMore(left && right ? 'both' : left ? 'left' : right ? 'right' : '');
    };
    measure();
    row.addEventListener('scroll', measure, { passive: true });
    window.addEventListener('resize', measure);
    return () => {
      row.removeEventListener('scroll', measure);
      window.removeEventListener('resize', measure);
    };
  }, [profile, path]);

  // Uploads go on while another page is open (upload-queue.ts): said here, with the way back to their list.
  const uploads = useUploadJobs();
  const pending = uploads.filter((j) => j.status === 'uploading' || j.status === 'queued').length;
  const [asking, setAsking] = useState(false);
  const leave = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    onSignedOut();
    navigate('/login');
  };
  // Signing out stops them: asked first, as leaving the page is (they stopped without a word).
  const signOut = () => (pending > 0 ? setAsking(true) : void leave());
  const failed = uploads.filter((j) => j.status === 'failed').length;
  const onLibrary = path === '/' || path === '/library';
  const quota = profile?.plan.storage_quota_bytes ?? null;
  const share = usage && quota ? Math.min(100, (usage.storage_bytes / quota) * 100) : 0;

  return (
    <header class="top">
      <a class="brand" href="/"><img src="/favicon.svg" alt="" width="22" height="22" />Pictor</a>
      {profile && usage && (
        <div class="usage" title="Storage your files take now, and how many there are">
          <span>
            {formatBytes(usage.storage_bytes)}
            {quota ? ` of ${formatBytes(quota)}` : ''} · {usage.files_count} {usage.files_count === 1 ? 'file' : 'files'}
          </span>
          {quota ? <progress max={100} value={share} aria-label="Storage used" /> : null}
        </div>
      )}
      <span role="status" class="uploads-status">
        {profile && !onLibrary && (pending > 0 || failed > 0) && (
          <a class={`uploads-badge${pending === 0 ? ' failed' : ''}`} href="/">
            {pending > 0 ? `Uploading ${pending} ${pending === 1 ? 'file' : 'files'}…` : `${failed} ${failed === 1 ? 'upload' : 'uploads'} failed`}
          </a>
        )}
      </span>
      <nav class="top-nav" aria-label="Account">
        <a href="/docs">API docs</a>
        {profile ? (
          <>
            {/* The address may be cut short on a phone: the title holds it whole. */}
            <a href="/account" title={`Your account: ${profile.user.email}`} aria-current={path === '/account' ? 'page' : undefined}>{profile.user.email}</a>
            <button type="button" class="link" onClick={signOut}>Sign out</button>
          </>
        ) : (
          <a href="/login">Sign in</a>
        )}
      </nav>
      {/* Last in the markup as on the screen (a row of its own below), so Tab follows what is seen. */}
      {profile && (
        <nav class="sections" aria-label="Sections" data-more={more || undefined}>
          {SECTIONS.filter((s) => !s.admin || profile.user.role === 'admin').map((s) => (
            <a key={s.href} href={s.href} aria-current={isCurrent(s.href, path) ? 'page' : undefined}>{s.label}</a>
          ))}
        </nav>
      )}
      {asking && (
        <FormDialog title="Sign out?" submit="Sign out" danger onClose={() => setAsking(false)} onSubmit={leave}>
          <p>{pending === 0 ? 'Your uploads have finished.' : `${pending === 1 ? '1 upload is' : `${pending} uploads are`} still in progress and will stop.`}</p>
        </FormDialog>
      )}
    </header>
  );
}
