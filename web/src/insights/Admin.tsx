/**
 * Administration (admins only; the header hides the link and the page refuses others, while the
 * API refuses their calls on its own): server stats with the last hour of requests and cache
 * hits, users with search and ban/promote/role actions, invite codes, and any account's files.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, formatBytes, type Profile, type ServerInfo } from '../api';
import { BusyButton } from '../components/BusyButton';
import { CopyField } from '../components/Copy';
import { OutcomeLine, type Outcome } from '../components/Outcome';
import type { Route } from '../router';
import { navigate } from '../router';
import { Chart } from './Chart';
import './insights.css';

/** An element id to focus once the next render has drawn it (set it before the state change that swaps or removes the focused control). */
function useFocusAfterDraw() {
  const focusNext = useRef<string | null>(null);
  useEffect(() => {
    const el = focusNext.current ? document.getElementById(focusNext.current) : null;
    if (el) {
      focusNext.current = null;
      el.focus();
    }
  });
  return focusNext;
}

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

export function Admin({ profile, route, info }: { profile: Profile; route: Route; info: ServerInfo }) {
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
      {tab === 'users' && <Users self={profile.user.id} inviteOnly={info.registration?.invite_only === true} />}
      {tab === 'files' && <Files initialUser={route.query.get('user') ?? ''} email={route.query.get('email') ?? ''} />}
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

/** One plan's limits, from `GET /api/admin/stats` (null = unlimited). */
interface PlanFacts { max_upload_size_bytes: number; storage_quota_bytes: number | null; max_files: number | null }
type Plans = Record<'standard' | 'promoted', PlanFacts>;

/** What each plan allows, for the words beside each user's plan (null until the stats arrive). */
function usePlans(): Plans | null {
  const [plans, setPlans] = useState<Plans | null>(null);
  useEffect(() => {
    api<{ plans: Plans }>('GET', '/api/admin/stats').then((s) => setPlans(s.plans), () => undefined); // the words are left out, the page works
  }, []);
  return plans;
}

/** "750 MiB per file · 50 GiB storage · 100,000 files" */
function planText(p: PlanFacts | undefined): string {
  if (!p) return '';
  return [
    `${formatBytes(p.max_upload_size_bytes)} per file`,
    p.storage_quota_bytes === null ? 'unlimited storage' : `${formatBytes(p.storage_quota_bytes)} storage`,
    p.max_files === null ? 'unlimited files' : `${n(p.max_files)} files`,
  ].join(' · ');
}

function Users({ self, inviteOnly }: { self: string; inviteOnly: boolean }) {
  const plans = usePlans();
  const [q, setQ] = useState('');
  const [list, setList] = useState<AdminUser[] | null>(null);
  const [count, setCount] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState<Outcome>(null);
  const [busy, setBusy] = useState('');
  const [confirmBan, setConfirmBan] = useState<string | null>(null);
  /** Roles chosen in a row's select and not applied yet: the select only chooses (a ↓ on it made an admin). */
  const [roleDraft, setRoleDraft] = useState<Record<string, AdminUser['role']>>({});
  /**
   * The id of the control to focus once the list shows the outcome: an action that replaces its
   * button (Confirm ban → Unban) hands the focus on instead of dropping it to <body>.
   */
  const focusNext = useFocusAfterDraw();

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

  /** Applies a change; true when the server took it (the caller then says where the focus goes). */
  const change = async (u: AdminUser, path: string, body: object, done: string): Promise<boolean> => {
    if (busy) return false;
    setBusy(u.id);
    setMessage(null);
    try {
      const updated = await api<AdminUser>('POST', `/api/admin/users/${u.id}/${path}`, body);
      setList((prev) => prev?.map((x) => (x.id === u.id ? updated : x)) ?? prev);
      setMessage({ ok: true, text: `${u.email}: ${done}.` });
      return true;
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
      return false;
    } finally {
      setBusy('');
    }
  };
  const dropDraft = (id: string) => setRoleDraft(({ [id]: _, ...rest }) => rest);
  const cancelRole = (u: AdminUser) => {
    dropDraft(u.id);
    focusNext.current = `role-${u.id}`;
  };
  const applyRole = async (u: AdminUser, role: AdminUser['role']) => {
    if (await change(u, 'role', { role }, role === 'admin' ? 'now an admin' : 'no longer an admin')) {
      dropDraft(u.id);
      focusNext.current = `role-${u.id}`;
    }
  };
  const cancelBan = (u: AdminUser) => {
    setConfirmBan(null);
    focusNext.current = `ban-${u.id}`;
  };

  return (
    <>
      <Invites self={self} inviteOnly={inviteOnly} />
      <section class="card" aria-labelledby="h-users">
        <div class="toolbar">
          <h2 id="h-users" class="grow">Users <span class="count">{n(count)}</span></h2>
          <label for="user-search" class="sr-only">Search users by email</label>
          <input id="user-search" type="search" placeholder="Search by email" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <dl class="plan-legend">
          <div><dt>Standard</dt><dd>{planText(plans?.standard) || 'the server’s upload limit and quotas'}</dd></div>
          <div><dt>Promoted</dt><dd>{planText(plans?.promoted) || 'a larger upload limit and no storage or file-count quota'}</dd></div>
          <div><dt>Admin</dt><dd>a role, not a plan: this page, no larger limits</dd></div>
        </dl>
        <OutcomeLine outcome={message} />
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
                  const plan = u.is_promoted ? plans?.promoted : plans?.standard;
                  return (
                    <tr key={u.id} data-user={u.email}>
                      <td><div class="user-email">{u.email}{me && <span class="muted"> (you)</span>}</div><div class="muted small-text">since {date(u.created_at)}{u.email_verified ? '' : ' · unverified'}</div></td>
                      <td>
                        {me ? (
                          // The server refuses an admin's own demotion (how installs lose their last admin): no control to try it.
                          <span>{u.role}<span class="muted small-text block">yours; another admin can change it</span></span>
                        ) : (
                          <RoleChoice user={u} draft={roleDraft[u.id]} busy={busy === u.id}
                            onChoose={(role) => (role === u.role ? dropDraft(u.id) : setRoleDraft((d) => ({ ...d, [u.id]: role })))}
                            onApply={(role) => void applyRole(u, role)} onCancel={() => cancelRole(u)} />
                        )}
                      </td>
                      <td data-label="Plan">
                        {u.is_promoted ? <span class="badge s3">Promoted</span> : <span>Standard</span>}
                        {planText(plan) && <span class="muted small-text block">{planText(plan)}</span>}
                      </td>
                      <td>{u.is_banned ? <span class="badge bad">Banned</span> : <span class="badge s2">Active</span>}</td>
                      <td class="num nowrap" data-label="Storage">{formatBytes(u.usage.storage_bytes)}</td>
                      <td class="num" data-label="Files">{n(u.usage.files_count)}</td>
                      <td class="row-actions">
                        {/* One button whose words change: the focus stays on it (Upgrade → Downgrade). */}
                        <BusyButton type="button" class="small" busy={busy === u.id}
                          onClick={() => void change(u, 'promote', { promoted: !u.is_promoted }, u.is_promoted ? 'back on the standard plan' : 'promoted')}>
                          {u.is_promoted ? 'Downgrade plan' : 'Upgrade plan'}<span class="sr-only"> of {u.email}</span>
                        </BusyButton>
                        {!me && u.is_banned && (
                          <BusyButton id={`unban-${u.id}`} type="button" class="small" busy={busy === u.id}
                            onClick={async () => {
                              if (await change(u, 'ban', { banned: false }, 'unbanned')) focusNext.current = `ban-${u.id}`;
                            }}>
                            Unban<span class="sr-only"> {u.email}</span>
                          </BusyButton>
                        )}
                        {!me && !u.is_banned && (confirmBan === u.id ? (
                          <span class="confirm-inline" role="group" aria-label={`Ban ${u.email}?`}
                            onKeyDown={(e) => {
                              if (e.key !== 'Escape') return;
                              e.preventDefault();
                              cancelBan(u);
                            }}>
                            <BusyButton id={`confirm-ban-${u.id}`} type="button" class="small danger solid" busy={busy === u.id} aria-describedby={`ban-effect-${u.id}`}
                              onClick={async () => {
                                if (!(await change(u, 'ban', { banned: true }, 'banned; their sessions and keys are refused and their files are hidden'))) return;
                                setConfirmBan(null);
                                focusNext.current = `unban-${u.id}`;
                              }}>
                              Confirm ban<span class="sr-only"> {u.email}</span>
                            </BusyButton>
                            <button id={`cancel-ban-${u.id}`} type="button" class="small" onClick={() => cancelBan(u)}>Cancel</button>
                            <span id={`ban-effect-${u.id}`} class="help ban-effect">Their sessions and keys are refused at once; their files are hidden until unbanned.</span>
                          </span>
                        ) : (
                          <BusyButton id={`ban-${u.id}`} type="button" class="small danger" busy={busy === u.id}
                            onClick={() => {
                              setConfirmBan(u.id);
                              focusNext.current = `cancel-ban-${u.id}`; // the safe answer first, as on the keys page
                            }}>
                            Ban<span class="sr-only"> {u.email}</span>
                          </BusyButton>
                        ))}
                        <a class="button small" href={`/admin?${new URLSearchParams({ tab: 'files', user: u.id, email: u.email })}`}>Files<span class="sr-only"> of {u.email}</span></a>
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

/**
 * A user's role: the select only chooses; a change of rights is applied by its own button, after
 * a question that names it. Escape (or Cancel) puts the select back. Saving on `change` made a
 * user an admin at the first ↓ on the closed select.
 */
function RoleChoice({ user, draft, busy, onChoose, onApply, onCancel }: {
  user: AdminUser;
  draft: AdminUser['role'] | undefined;
  busy: boolean;
  onChoose: (role: AdminUser['role']) => void;
  onApply: (role: AdminUser['role']) => void;
  onCancel: () => void;
}) {
  const pending = draft !== undefined && draft !== user.role;
  return (
    <div class="role-choice" onKeyDown={(e) => {
      if (e.key !== 'Escape' || !pending) return;
      e.preventDefault();
      onCancel();
    }}>
      <label class="sr-only" for={`role-${user.id}`}>Role of {user.email}</label>
      <select id={`role-${user.id}`} value={draft ?? user.role} aria-describedby={pending ? `role-ask-${user.id}` : undefined}
        onChange={(e) => onChoose((e.currentTarget as HTMLSelectElement).value as AdminUser['role'])}>
        <option value="user">user</option>
        <option value="admin">admin</option>
      </select>
      {pending && (
        <div class="confirm-inline" role="group" aria-labelledby={`role-ask-${user.id}`}>
          <p id={`role-ask-${user.id}`} class="small-text">{draft === 'admin' ? `Make ${user.email} an admin?` : `Take admin rights from ${user.email}?`}</p>
          <BusyButton type="button" class="small primary" busy={busy} onClick={() => onApply(draft)}>Change role<span class="sr-only"> of {user.email}</span></BusyButton>
          <button type="button" class="small" onClick={onCancel}>Cancel<span class="sr-only"> role change</span></button>
        </div>
      )}
    </div>
  );
}

/** A whole number from 1 to 50, as typed (the number field turned "-5" into 5 and "abc" into 0). */
const inviteCount = (text: string): number | null => (/^\s*\d+\s*$/.test(text) && Number(text) >= 1 && Number(text) <= 50 ? Number(text) : null);

/** Where a new code is used: the sign-up page with the code filled in. */
const signUpLink = (code: string) => `${location.origin}/register?invite=${encodeURIComponent(code)}`;

function Invites({ self, inviteOnly }: { self: string; inviteOnly: boolean }) {
  const [count, setCount] = useState('1');
  const [countError, setCountError] = useState('');
  const countRef = useRef<HTMLInputElement>(null);
  const [expiry, setExpiry] = useState('604800');
  const [codes, setCodes] = useState<Invite[]>([]);
  const [error, setError] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    setError('');
    const wanted = inviteCount(count);
    if (wanted === null) {
      setCountError(`“${count.trim()}” is not a number of invites: type a whole number from 1 to 50.`);
      countRef.current?.focus();
      return;
    }
    setCountError('');
    try {
      const res = await api<{ results: Invite[] }>('POST', `/api/admin/users/${self}/invites`, { count: wanted, expires_in: expiry === 'never' ? null : Number(expiry) });
      setCodes(res.results);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="card" aria-labelledby="h-invites">
      <h2 id="h-invites">Invite people</h2>
      <p class="help">{inviteOnly
        ? 'Registration on this server needs an invite: each code registers one account. Send its sign-up link, which fills the code in.'
        : 'Registration on this server is open: anyone can create an account without a code (a code sent with a sign-up is still checked). Codes are needed once the server runs with INVITE_ONLY=true.'}</p>
      <form class="toolbar invite-form" onSubmit={create} noValidate>
        <div class="ctl">
          <label for="invite-count">How many <span class="muted">(1 to 50)</span></label>
          {/* Text, not a number field: what was typed stays as typed, and is checked on submit. */}
          <input id="invite-count" ref={countRef} type="text" inputMode="numeric" autoComplete="off" value={count}
            aria-invalid={countError ? true : undefined} aria-describedby={countError ? 'invite-count-error' : undefined}
            onInput={(e) => setCount((e.currentTarget as HTMLInputElement).value)} />
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
      {countError && <p id="invite-count-error" class="error" role="alert">{countError}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {codes.length > 0 && (
        <div class="done invite-codes" role="status">
          <p>{codes.length === 1 ? 'One new code' : `${codes.length} new codes`}{codes[0]?.expires_at ? `, valid until ${new Date(codes[0].expires_at).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' })}` : ', without expiry'}:</p>
          {codes.map((c, i) => (
            <div key={c.code} class="invite-code">
              <CopyField id={`invite-${i}`} label={`Invite code ${i + 1}`} value={c.code} />
              <CopyField id={`invite-link-${i}`} label={`Sign-up link ${i + 1}`} value={signUpLink(c.code)} />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/**
 * Every account's files, or one account's (`initialUser`, from a user's "Files"; `email` names
 * it until a listed file does). Delete asks again in its row; the focus follows each step.
 */
function Files({ initialUser, email }: { initialUser: string; email: string }) {
  const [q, setQ] = useState('');
  /** The account's address as its files name it (a link may not carry it). */
  const [owner, setOwner] = useState(email);
  useEffect(() => setOwner(email), [initialUser, email]);
  /**
   * The control to focus once the list has drawn: Delete swaps its button for "Delete for good"
   * and "Keep", and a deletion takes the row away; the focus went to <body> each time.
   */
  const focusNext = useFocusAfterDraw();
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
      if (initialUser && page.results[0]) setOwner(page.results[0].owner_email);
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

  const ask = (f: AdminFile) => {
    setConfirm(f.id);
    focusNext.current = `keep-${f.id}`; // the safe answer first, as for a ban
  };
  const keep = (f: AdminFile) => {
    setConfirm(null);
    focusNext.current = `delete-${f.id}`;
  };
  const remove = async (f: AdminFile) => {
    try {
      await api('DELETE', `/api/admin/files/${encodeURIComponent(f.id)}`);
      // The next row's Delete takes the focus (the previous one's at the end), else the heading.
      const rows = list ?? [];
      const at = rows.findIndex((x) => x.id === f.id);
      const then = rows[at + 1] ?? rows[at - 1];
      focusNext.current = then ? `delete-${then.id}` : 'h-files';
      setList((prev) => prev?.filter((x) => x.id !== f.id) ?? prev);
      setCount((c) => c - 1);
      setMessage({ ok: true, text: `Deleted ${f.name} of ${f.owner_email}. The deletion is in the audit trail.` });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
      focusNext.current = `delete-${f.id}`;
    } finally {
      setConfirm(null);
    }
  };

  return (
    <section class="card" aria-labelledby="h-files">
      <div class="toolbar">
        {/* Of one account when its "Files" led here: the heading said "every account" over its files only. */}
        <h2 id="h-files" class="grow" tabIndex={-1}>{initialUser ? `Files of ${owner || 'one account'}` : 'Files of every account'} <span class="count">{n(count)}</span></h2>
        {initialUser && <button type="button" class="small" onClick={() => navigate('/admin?tab=files')}>Show every account’s files</button>}
        <label for="file-search" class="sr-only">Search files by name</label>
        <input id="file-search" type="search" placeholder="Search by name" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <p class="help">Deleting a file here is the owner's delete: their storage is released at once, and the action is audited.</p>
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
      {!list ? <p class="loading" role="status">Loading files…</p> : list.length === 0 ? (
        <p class="empty">{q.trim() ? `No file name contains “${q.trim()}”${initialUser ? ` among the files of ${owner || 'this account'}` : ''}.` : initialUser ? `${owner || 'This account'} has no files.` : 'No account has any files.'}</p>
      ) : (
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
                        <button id={`confirm-delete-${f.id}`} type="button" class="small danger solid" onClick={() => remove(f)}>Delete for good<span class="sr-only"> {f.name}</span></button>
                        <button id={`keep-${f.id}`} type="button" class="small" onClick={() => keep(f)}>Keep<span class="sr-only"> {f.name}</span></button>
                      </>
                    ) : (
                      <button id={`delete-${f.id}`} type="button" class="small danger" onClick={() => ask(f)}>Delete<span class="sr-only"> {f.name}</span></button>
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
