import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, csrfToken, onSessionEnded, type Profile, type ServerInfo } from './api';
import { Header } from './components/Header';
import { Account } from './pages/Account';
import { Forgot, SignIn, Register } from './pages/Auth';
import { Details } from './pages/Details';
import { BrowserUpload, Integrations } from './pages/Integrations';
import { Keys } from './pages/Keys';
import { Admin } from './insights/Admin';
import { Jobs } from './insights/Jobs';
import { Usage } from './insights/Usage';
import { Library } from './pages/Library';
import { Logs } from './pages/Logs';
import { Settings } from './pages/Settings';
import { useFocusOnPageChange, usePageTitle } from './page-change';
import { onFileUploaded, resetUploads } from './upload-queue';
import { navigate, onLinkClick, sitePathOr, useRoute } from './router';
import './styles.css';

export interface Session {
  profile: Profile;
  reload: () => void;
}

// The mailed /reset-password and /verify-email links open server-rendered pages (src/modules/auth/pages.ts):
// they work without script, and a GET never uses the token up (mail scanners prefetch links).
const PUBLIC = new Set(['/login', '/register', '/forgot-password']);

function App() {
  const route = useRoute();
  // `/keys/` is `/keys`: a trailing slash is dropped from the address, not read as another page.
  useEffect(() => {
    if (route.path.length > 1 && route.path.endsWith('/')) navigate(route.path.replace(/\/+$/, '') + location.search + location.hash, true);
  }, [route.path]);
  const [profile, setProfile] = useState<Profile | null | undefined>(undefined);
  const [info, setInfo] = useState<ServerInfo>({});
  const [usageTick, setUsageTick] = useState(0);

  const load = useCallback(() => {
    // No readable CSRF cookie, no session: the sign-in page at once, without a 401 in the console.
    if (!csrfToken()) {
      setProfile(null);
      return;
    }
    api<Profile>('GET', '/api/profile')
      .then(setProfile)
      .catch(() => setProfile(null));
  }, []);
  useEffect(load, [load]);
  // A session ended elsewhere (another device signed it out) or expired: back to sign-in, which says why.
  useEffect(() => onSessionEnded(() => setProfile(null)), []);
  // Every file an upload stores changes the header's count and storage, whatever page is open.
  useEffect(() => onFileUploaded(() => setUsageTick((n) => n + 1)), []);
  useEffect(() => {
    if (profile === null) resetUploads();
  }, [profile]);
  useEffect(() => {
    api<ServerInfo>('GET', '/api/reference/for-agents').then(setInfo).catch(() => setInfo({}));
  }, []);

  const isPublic = PUBLIC.has(route.path);
  useEffect(() => {
    if (profile === null && !isPublic) navigate(`/login?next=${encodeURIComponent(route.path + location.search)}`, true);
    if (profile && (route.path === '/login' || route.path === '/register')) navigate(sitePathOr(route.query.get('next')), true);
  }, [profile, isPublic, route.path]);

  const path = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
  usePageTitle(path, route.query.get('folder'));
  useFocusOnPageChange(path + location.search);
  if (profile === undefined) return <p class="loading" role="status">Loading…</p>;

  const signedIn = (p: Profile | null) => (p ? setProfile(p) : load());
  let page;
  if (path === '/login') page = <SignIn onDone={signedIn} />;
  else if (path === '/register') page = <Register info={info} onDone={signedIn} />;
  else if (path === '/forgot-password') page = <Forgot />;
  else if (!profile) return <p class="loading" role="status">Loading…</p>;
  else if (path === '/account') page = <Account profile={profile} onSignedOut={() => setProfile(null)} />;
  else if (path === '/keys') page = <Keys profile={profile} />;
  else if (path === '/settings') page = <Settings profile={profile} />;
  else if (path === '/logs') page = <Logs route={route} />;
  else if (path === '/integrations') page = <Integrations />;
  else if (path === '/integrations/browser-upload') page = <BrowserUpload />;
  else if (path === '/usage') page = <Usage profile={profile} />;
  else if (path === '/jobs') page = <Jobs profile={profile} />;
  else if (path === '/admin') page = <Admin profile={profile} route={route} info={info} />;
  else if (path.startsWith('/files/')) {
    page = <Details id={decodeURIComponent(path.slice(7))} info={info} onChange={() => setUsageTick((n) => n + 1)} />;
  } else if (path === '/' || path === '/library') page = <Library route={route} onChange={() => setUsageTick((n) => n + 1)} />;
  else page = <NotFound path={path} />;

  return (
    <div class="app" onClick={onLinkClick}>
      <a class="skip" href="#main">Skip to content</a>
      {(path === '/' || path === '/library') && <a class="skip" href="#files">Skip to the files</a>}
      <Header profile={profile} usageTick={usageTick} onSignedOut={() => setProfile(null)} />
      <main id="main" tabIndex={-1}>{page}</main>
    </div>
  );
}

/** An address the app has no page for: said so, with the way back, instead of another page's content. */
function NotFound({ path }: { path: string }) {
  return (
    <section class="card">
      <h1>Page not found</h1>
      <p>There is no page at <code>{path}</code>.</p>
      <p><a href="/">Go to your library</a></p>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
