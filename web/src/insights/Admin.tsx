/**
 * Administration (admins only; the header hides the link and the page refuses others, while the
 * API refuses their calls on its own): server stats with the last hour of requests and cache
 * hits, users with search and ban/promote/role actions, invite codes, and any account's files.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, errorText, formatBytes, type Profile } from '../api';
import { CopyField } from '../components/Copy';
import type { Route } from '../router';
import { navigate } from '../router';
import { Chart } from './Chart';
import './insights.css';

interface AdminUser {
  id: string;
  email: string;
  role: 'user' | 'admin';
  is_promoted: boolean;
  is_banned: boolean;
  email_verified: boolean;
  created_at: string;
  usage: { storage_bytes: number; files_count: number };
}
interface AdminFile { id: string; name: string; content_type: string; size: number; is_public: boolean; url: string; created_at: string; user_id: string; owner_email: string }
interface Invite { code: string; created_at: string; expires_at: string | null }
interface Minute { at: string; requests: number; errors: number; cache_lookups: number; cache_hits: number }
interface Stats {
  users: { total: number; admins: number; banned: number; promoted: number };
  files: { count: number; bytes: number };
  queue?: { pending: number; running: number; completed: number; failed: number; cancelled: number } | null;
  cache?: { lookups: number; hits: number; hit_ratio: number | null } | null;
  transforms?: { in_flight: number; queued: number } | null;
  traffic?: { minutes: Minute[] } | null;
}

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'users', label: 'Users' },
  { id: 'files', label: 'Files' },
] as const;
type Tab = (typeof TABS)[number]['id'];
const date = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' }); // the browser's locale, as everywhere in the app
const n = (v: number) => v.toLocaleString('en');

export function Admin({ profile, route }: { profile: Profile; route: Route }) {
  if (profile.user.role !== 'admin') {
    return (
      <div class="page narrow">
        <section class="card refusal" role="alert">
          <h1>Administrators only</h1>
          <p>This page is for the server's administrators. Your account ({profile.user.email}) cannot open it, and the server refuses its calls.</p>
          <p><a href="/">Back to your library</a></p>
        </section>
      </div>
    );
  }
  const tab = (TABS.find((t) => t.id === route.query.get('tab'))?.id ?? 'overview') as Tab;
  return (
    <div class="page insights">
      <header class="page-head">
        <h1>Administration</h1>
        <p class="lede">The whole server: its load, its accounts and everything they stored.</p>
      </header>
      <nav class="tabs" aria-label="Administration">
        {TABS.map((t) => (
          <a key={t.id} href={`/admin${t.id === 'overview' ? '' : `?tab=${t.id}`}`} aria-current={tab === t.id ? 'page' : undefined}>{t.label}</a>
        ))}
      </nav>
      {tab === 'overview' && <Overview />}
      {tab === 'users' && <Users self={profile.user.id} />}
      {tab === 'files' && <Files initialUser={route.query.get('user') ?? ''} />}
    </div>
  );
}

function Overview() {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () => api<Stats>('GET', '/api/admin/stats').then(setStats, (err) => setError(errorText(err)));
    load();
    const timer = setInterval(load, 15_000);
    return () => clearInterval(timer);
  }, []);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!stats) return <p class="loading" role="status">Loading statistics…</p>;
  const minutes = stats.traffic?.minutes ?? [];
  const ratio = stats.cache?.hit_ratio;
  const tiles: [string, string, string][] = [
    ['Users', n(stats.users.total), `${n(stats.users.admins)} ${stats.users.admins === 1 ? 'admin' : 'admins'} · ${n(stats.users.promoted)} promoted · ${n(stats.users.banned)} banned`],
    ['Files', n(stats.files.count), 'live files of every account'],
    ['Stored', formatBytes(stats.files.bytes), 'bytes of every account\'s files'],
    ['Queue', stats.queue ? n(stats.queue.pending + stats.queue.running) : '—', stats.queue ? `${n(stats.queue.running)} running · ${n(stats.queue.failed)} failed` : 'unavailable'],
    ['Cache hit ratio', ratio === null || ratio === undefined ? '—' : `${Math.round(ratio * 1000) / 10}%`, stats.cache ? `${n(stats.cache.hits)} of ${n(stats.cache.lookups)} lookups` : ''],
    ['Transforms in flight', stats.transforms ? n(stats.transforms.in_flight) : '—', stats.transforms ? `${n(stats.transforms.queued)} waiting for the pool` : ''],
  ];
  const hourRequests = minutes.reduce((s, m) => s + m.requests, 0);
  const hourHits = minutes.reduce((s, m) => s + m.cache_hits, 0);
  return (
    <>
      <section class="stat-grid" aria-label="Server statistics">
        {tiles.map(([label, value, sub]) => (
          <div class="card stat" key={label}>
            <div class="stat-label">{label}</div>
            <div class="stat-value" data-stat={label}>{value}</div>
            <div class="muted small-text">{sub}</div>
          </div>
        ))}
      </section>
      <section class="card chart-card" aria-labelledby="h-traffic">
        <div class="chart-head">
          <h2 id="h-traffic">Requests and cache hits, last hour</h2>
          <span class="chart-total">{n(hourRequests)} requests · {n(hourHits)} cache hits</span>
        </div>
        <p class="help">Per minute, counted by the process that answered this page.</p>
        <Chart id="chart-traffic" width={1000} height={240} labels={minutes.map((m) => new Date(m.at).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit', hour12: false }))}
          series={[
            { name: 'requests', values: minutes.map((m) => m.requests), kind: 'bar', tone: 'c1' },
            { name: 'cache hits', values: minutes.map((m) => m.cache_hits), kind: 'line', tone: 'c3' },
          ]}
          format={(v) => n(Math.round(v))}
          summary={`Requests and cache hits per minute over the last hour: ${hourRequests} requests and ${hourHits} cache hits.`} />
      </section>
    </>
  );
}

function Users({ self }: { self: string }) {
  const [q, setQ] = useState('');
  const [list, setList] = useState<AdminUser[] | null>(null);
  const [count, setCount] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState('');
  const [confirmBan, setConfirmBan] = useState<string | null>(null);

  const load = useCallback(async (search: string, cursor?: string) => {
    const params = new URLSearchParams({ limit: '50' });
    if (search) params.set('q', search);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api<{ results: AdminUser[]; count: number; next_cursor: string | null }>('GET', `/api/admin/users?${params}`);
      setList((prev) => (cursor && prev ? [...prev, ...page.results] : page.results));
      setCount(page.count);
      setNext(page.next_cursor);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  }, []);
  useEffect(() => {
    const t = setTimeout(() => void load(q), q ? 250 : 0);
    return () => clearTimeout(t);
  }, [q, load]);

  const change = async (u: AdminUser, path: string, body: object, done: string) => {
    setBusy(u.id);
    setMessage(null);
    try {
      const updated = await api<AdminUser>('POST', `/api/admin/users/${u.id}/${path}`, body);
      setList((prev) => prev?.map((x) => (x.id === u.id ? updated : x)) ?? prev);
      setMessage({ ok: true, text: `${u.email}: ${done}.` });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy('');
    }
  };

  return (
    <>
      <Invites self={self} />
      <section class="card" aria-labelledby="h-users">
        <div class="toolbar">
          <h2 id="h-users" class="grow">Users <span class="count">{n(count)}</span></h2>
          <label for="user-search" class="sr-only">Search users by email</label>
          <input id="user-search" type="search" placeholder="Search by email" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        </div>
        {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
        {!list ? <p class="loading" role="status">Loading users…</p> : list.length === 0 ? <p class="empty">No user matches “{q}”.</p> : (
          <div class="table-wrap">
            <table class="table users-table card-rows">
              <caption class="sr-only">Users</caption>
              <thead>
                <tr><th scope="col">Account</th><th scope="col">Role</th><th scope="col">Plan</th><th scope="col">State</th><th scope="col" class="num">Storage</th><th scope="col" class="num">Files</th><th scope="col">Actions</th></tr>
              </thead>
              <tbody>
                {list.map((u) => {
                  const me = u.id === self;
                  return (
                    <tr key={u.id} data-user={u.email}>
                      <td><div class="user-email">{u.email}{me && <span class="muted"> (you)</span>}</div><div class="muted small-text">since {date(u.created_at)}{u.email_verified ? '' : ' · unverified'}</div></td>
                      <td>
                        <label class="sr-only" for={`role-${u.id}`}>Role of {u.email}</label>
                        <select id={`role-${u.id}`} value={u.role} disabled={me || busy === u.id}
                          onChange={(e) => change(u, 'role', { role: (e.currentTarget as HTMLSelectElement).value }, `role set to ${(e.currentTarget as HTMLSelectElement).value}`)}>
                          <option value="user">user</option>
                          <option value="admin">admin</option>
                        </select>
                      </td>
                      <td>{u.is_promoted ? <span class="badge s3">Promoted</span> : <span class="muted">Standard</span>}</td>
                      <td>{u.is_banned ? <span class="badge bad">Banned</span> : <span class="badge s2">Active</span>}</td>
                      <td class="num nowrap" data-label="Storage">{formatBytes(u.usage.storage_bytes)}</td>
                      <td class="num" data-label="Files">{n(u.usage.files_count)}</td>
                      <td class="row-actions">
                        <button type="button" class="small" disabled={busy === u.id}
                          title={u.is_promoted ? 'Back to the standard upload limit and quotas' : 'The promoted plan: the larger upload limit (PROMOTED_MAX_UPLOAD_BYTES) and no storage or file-count quota; not admin rights'}
                          onClick={() => change(u, 'promote', { promoted: !u.is_promoted }, u.is_promoted ? 'back on the standard plan' : 'promoted')}>
                          {u.is_promoted ? 'Downgrade plan' : 'Upgrade plan'}<span class="sr-only"> of {u.email}</span>
                        </button>
                        {!me && u.is_banned && (
                          <button type="button" class="small" disabled={busy === u.id} onClick={() => change(u, 'ban', { banned: false }, 'unbanned')}>
                            Unban<span class="sr-only"> {u.email}</span>
                          </button>
                        )}
                        {!me && !u.is_banned && (confirmBan === u.id ? (
                          <>
                            <button type="button" class="small danger solid" disabled={busy === u.id} title="Their sessions and keys are refused at once and their files are hidden until unbanned"
                              onClick={() => {
                                setConfirmBan(null);
                                void change(u, 'ban', { banned: true }, 'banned; their sessions and keys are refused and their files are hidden');
                              }}>
                              Confirm ban<span class="sr-only"> {u.email}</span>
                            </button>
                            <button type="button" class="small" onClick={() => setConfirmBan(null)}>Cancel</button>
                          </>
                        ) : (
                          <button type="button" class="small danger" disabled={busy === u.id} onClick={() => setConfirmBan(u.id)}>
                            Ban<span class="sr-only"> {u.email}</span>
                          </button>
                        ))}
                        <a class="button small" href={`/admin?tab=files&user=${u.id}`}>Files<span class="sr-only"> of {u.email}</span></a>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {next && <p><button type="button" onClick={() => load(q, next)}>Show more users</button></p>}
      </section>
    </>
  );
}

function Invites({ self }: { self: string }) {
  const [count, setCount] = useState(1);
  const [expiry, setExpiry] = useState('604800');
  const [codes, setCodes] = useState<Invite[]>([]);
  const [error, setError] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const res = await api<{ results: Invite[] }>('POST', `/api/admin/users/${self}/invites`, { count, expires_in: expiry === 'never' ? null : Number(expiry) });
      setCodes(res.results);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="card" aria-labelledby="h-invites">
      <h2 id="h-invites">Invite people</h2>
      <p class="help">Each code registers one account (required when the server is invite-only).</p>
      <form class="toolbar invite-form" onSubmit={create}>
        <div class="ctl">
          <label for="invite-count">How many</label>
          <input id="invite-count" type="number" min={1} max={50} value={count} onInput={(e) => setCount(Number((e.currentTarget as HTMLInputElement).value))} />
        </div>
        <div class="ctl">
          <label for="invite-expiry">Valid for</label>
          <select id="invite-expiry" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
            <option value="2592000">30 days</option>
            <option value="never">No expiry</option>
          </select>
        </div>
        <button type="submit" class="primary">Create invites</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {codes.length > 0 && (
        <div class="done invite-codes" role="status">
          <p>{codes.length === 1 ? 'One new code' : `${codes.length} new codes`}{codes[0]?.expires_at ? `, valid until ${new Date(codes[0].expires_at).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' })}` : ', without expiry'}:</p>
          {codes.map((c, i) => <CopyField key={c.code} id={`invite-${i}`} label={`Invite code ${i + 1}`} value={c.code} />)}
        </div>
      )}
    </section>
  );
}

function Files({ initialUser }: { initialUser: string }) {
  const [q, setQ] = useState('');
  const [list, setList] = useState<AdminFile[] | null>(null);
  const [count, setCount] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const load = useCallback(async (search: string, cursor?: string) => {
    const params = new URLSearchParams({ limit: '50' });
    if (search) params.set('q', search);
    if (initialUser) params.set('user_id', initialUser);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api<{ results: AdminFile[]; count: number; next_cursor: string | null }>('GET', `/api/admin/files?${params}`);
      setList((prev) => (cursor && prev ? [...prev, ...page.results] : page.results));
      setCount(page.count);
      setNext(page.next_cursor);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  }, [initialUser]);
  useEffect(() => {
    const t = setTimeout(() => void load(q), q ? 250 : 0);
    return () => clearTimeout(t);
  }, [q, load]);

  const remove = async (f: AdminFile) => {
    try {
      await api('DELETE', `/api/admin/files/${encodeURIComponent(f.id)}`);
      setList((prev) => prev?.filter((x) => x.id !== f.id) ?? prev);
      setCount((c) => c - 1);
      setMessage({ ok: true, text: `Deleted ${f.name} of ${f.owner_email}. The deletion is in the audit trail.` });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setConfirm(null);
    }
  };

  return (
    <section class="card" aria-labelledby="h-files">
      <div class="toolbar">
        <h2 id="h-files" class="grow">Files of every account <span class="count">{n(count)}</span></h2>
        {initialUser && <button type="button" class="small" onClick={() => navigate('/admin?tab=files')}>Show every account</button>}
        <label for="file-search" class="sr-only">Search files by name</label>
        <input id="file-search" type="search" placeholder="Search by name" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <p class="help">Deleting a file here is the owner's delete: their storage is released at once, and the action is audited.</p>
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
      {!list ? <p class="loading" role="status">Loading files…</p> : list.length === 0 ? <p class="empty">No files.</p> : (
        <div class="table-wrap">
          <table class="table card-rows">
            <caption class="sr-only">Files, newest first</caption>
            <thead><tr><th scope="col">File</th><th scope="col">Owner</th><th scope="col" class="num">Size</th><th scope="col">Visibility</th><th scope="col">Uploaded</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((f) => (
                <tr key={f.id} data-file={f.id}>
                  <td><div class="user-email">{f.name}</div><div class="muted mono">{f.id} · {f.content_type}</div></td>
                  <td data-label="Owner">{f.owner_email}</td>
                  <td class="num nowrap">{formatBytes(f.size)}</td>
                  <td>{f.is_public ? 'public' : 'private'}</td>
                  <td class="nowrap" data-label="Uploaded">{date(f.created_at)}</td>
                  <td class="row-actions">
                    {confirm === f.id ? (
                      <>
                        <button type="button" class="small danger solid" onClick={() => remove(f)}>Delete for good<span class="sr-only"> {f.name}</span></button>
                        <button type="button" class="small" onClick={() => setConfirm(null)}>Keep</button>
                      </>
                    ) : (
                      <button type="button" class="small danger" onClick={() => setConfirm(f.id)}>Delete<span class="sr-only"> {f.name}</span></button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <p><button type="button" onClick={() => load(q, next)}>Show more files</button></p>}
    </section>
  );
}
