/**
 * The jobs page: the account's jobs (every job for admins) with status and progress, kept
 * current by the queue's Server-Sent Events. The browser's EventSource resumes a dropped
 * stream with `Last-Event-ID` itself; when the stream is closed for good (an expired session
 * cookie), the page renews the session and reopens it with `?last_event_id=` of the last event
 * seen, so no event is missed.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, formatWhen, type Profile } from '../api';
import './insights.css';

type Status = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
interface Job {
  id: string;
  type: string;
  status: Status;
  attempts: number;
  max_attempts: number;
  progress: number;
  file_id: string | null;
  /** In the list (not in live events): the file's name. */
  file_name?: string | null;
  payload?: Record<string, unknown>;
  user_id: string | null;
  last_error: string | null;
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}
interface JobEvent {
  job_id: string; type: string; status: Status; attempts: number; max_attempts: number; progress: number;
  file_id: string | null; user_id: string | null; last_error: string | null; event: string; at: string;
}
type Counts = Record<Status, number>;
type Stats = Counts & { by_type: Record<string, Counts> };
const NO_JOBS: Counts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

const EVENTS = ['job.created', 'job.started', 'job.progress', 'job.retrying', 'job.completed', 'job.failed', 'job.cancel_requested', 'job.cancelled', 'job.released'];
const STATUSES: Status[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];
const LABEL: Record<Status, string> = { pending: 'Pending', running: 'Running', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' };
const TYPES: Record<string, string> = {
  derive: 'Thumbnails and metadata',
  purge: 'Remove a deleted file',
  blob_delete: 'Remove stored bytes',
  video_render: 'Video rendition',
  expire: 'Expire files',
  prune: 'Housekeeping',
  account_export: 'Account export',
  account_delete: 'Account deletion',
};

/** What a video rendition job makes: "MP4, w_1280,c_limit" (its payload says). */
function detail(j: Job): string {
  const p = j.payload;
  if (j.type !== 'video_render' || !p || typeof p.ext !== 'string') return '';
  return `: ${p.ext.toUpperCase()}${typeof p.canonical === 'string' && p.canonical ? `, ${p.canonical}` : ''}`;
}

/** File names asked for by id, for the whole visit: null for one this account cannot see (an admin's view of others' jobs) or that is gone. */
const nameCache = new Map<string, string | null>();
const NAMES_AT_ONCE = 6;

/**
 * The names of these files, asked for once each (`GET /api/files/:id`, a few at a time, the ids
 * of a burst of events together); a file not found keeps showing its id.
 */
function useFileNames(ids: string[]): Map<string, string | null> {
  const [, setVersion] = useState(0);
  // The page, not the effect: a later render may end the effect while its answers are on the way.
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  const wanted = [...new Set(ids)].filter((id) => !nameCache.has(id));
  const key = wanted.join(',');
  useEffect(() => {
    if (!wanted.length) return;
    const timer = setTimeout(async () => {
      const todo = wanted.filter((id) => !nameCache.has(id));
      for (const id of todo) nameCache.set(id, null); // asked: not again meanwhile
      for (let i = 0; i < todo.length; i += NAMES_AT_ONCE) {
        await Promise.all(todo.slice(i, i + NAMES_AT_ONCE).map((id) =>
          api<{ name: string }>('GET', `/api/files/${encodeURIComponent(id)}`).then((f) => void nameCache.set(id, f.name), () => undefined)));
      }
      if (mounted.current) setVersion((v) => v + 1);
    }, 50);
    return () => clearTimeout(timer);
  }, [key]);
  return nameCache;
}

/**
 * A job's file: its name, linking to its page; a file that is gone, said so without a link (its
 * id linked to a "not found" page); one whose name could not be had (another account's, seen by
 * an admin in the live feed), its id without a link.
 */
function FileCell({ id, name, gone }: { id: string | null; name: string | null; gone: boolean }) {
  if (!id) return <span class="muted">—</span>;
  if (name) return <a href={`/files/${encodeURIComponent(id)}`}>{name}</a>;
  if (gone) return <span class="muted" title={`File ${id}`}>deleted file</span>;
  return <span class="mono">{id}</span>;
}

const time = (iso: string | null) => formatWhen(iso, '—', true); // to the second: jobs a second apart differ

export function Jobs({ profile }: { profile: Profile }) {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [types, setTypes] = useState<[string, number][]>([]);
  const [filter, setFilter] = useState<Status | ''>('');
  const [type, setType] = useState('');
  // An admin sees every account's jobs; the server's own minutely housekeeping would bury them, so it is hidden until asked for.
  const [housekeeping, setHousekeeping] = useState(false);
  const [next, setNext] = useState<string | null>(null);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const lastId = useRef<string | null>(null);
  /**
   * Jobs the live feed brought in since the list was last asked for: a list that answers after
   * them may have been read before they existed, and must not drop them (a job created while the
   * page loaded never showed).
   */
  const cameLive = useRef(new Set<string>());
  /** Each known job's status, so an event moves the counts at once (the stats call confirms them later). */
  const statusOf = useRef(new Map<string, Status>());
  const admin = profile.user.role === 'admin';
  const hideHousekeeping = admin && !housekeeping;
  /** Whether a job of this type and owner belongs on the page as filtered. */
  const shown = (jobType: string, userId: string | null) => (!type || jobType === type) && !(hideHousekeeping && userId === null);

  /** The tiles' counts (of the chosen type) and the type menu, from one stats call. */
  const refreshStats = useCallback(async () => {
    const stats = await api<Stats>('GET', `/api/queue/stats${hideHousekeeping ? '?system=false' : ''}`);
    setCounts(type ? stats.by_type[type] ?? NO_JOBS : stats);
    setTypes(Object.entries(stats.by_type).map(([t, c]) => [t, STATUSES.reduce((n, k) => n + c[k], 0)] as [string, number])
      .sort((a, b) => (TYPES[a[0]] ?? a[0]).localeCompare(TYPES[b[0]] ?? b[0])));
  }, [type, hideHousekeeping]);

  const load = useCallback(async (cursor?: string) => {
    const q = new URLSearchParams({ limit: '50' });
    if (filter) q.set('status', filter);
    if (type) q.set('type', type);
    if (hideHousekeeping) q.set('system', 'false');
    if (cursor) q.set('cursor', cursor);
    if (!cursor) cameLive.current = new Set();
    try {
      const [page] = await Promise.all([api<{ results: Job[]; next_cursor: string | null }>('GET', `/api/queue/jobs?${q}`), refreshStats()]);
      for (const j of page.results) statusOf.current.set(j.id, j.status);
      setJobs((prev) => {
        if (cursor && prev) return [...prev, ...page.results];
        const listed = new Set(page.results.map((j) => j.id));
        const newer = (prev ?? []).filter((j) => cameLive.current.has(j.id) && !listed.has(j.id));
        return [...newer, ...page.results];
      });
      setNext(page.next_cursor);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  }, [filter, type, hideHousekeeping, refreshStats]);
  useEffect(() => void load(), [load]);

  /**
   * Where the focus goes once the list has drawn after an action or a live event: a row's buttons
   * change with its status (Retry → Cancel) and Delete takes the row away, which dropped the focus
   * to <body>. The row's remaining button (or link), else the next row's (the previous one's at
   * the end), else the heading.
   */
  const refocus = useRef<{ row: string; then: string | null } | null>(null);

  // The live feed: each event updates its job in place (or brings a new one to the top).
  useEffect(() => {
    let source: EventSource | null = null;
    let closed = false;
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    const apply = (e: MessageEvent<string>) => {
      if (e.lastEventId) lastId.current = e.lastEventId;
      const ev = JSON.parse(e.data) as JobEvent;
      if (!shown(ev.type, ev.user_id)) return;
      // A status change swaps the row's buttons (Cancel → Retry and Delete): the row keeps the focus it held.
      if (document.activeElement?.closest('tr[data-job]')?.getAttribute('data-job') === ev.job_id) refocus.current = { row: ev.job_id, then: null };
      const was = statusOf.current.get(ev.job_id);
      if (was !== ev.status && (was || ev.event === 'job.created')) {
        statusOf.current.set(ev.job_id, ev.status);
        setCounts((c) => c && { ...c, ...(was ? { [was]: Math.max(0, c[was] - 1) } : {}), [ev.status]: c[ev.status] + 1 });
      }
      setJobs((prev) => {
        const i = prev ? prev.findIndex((j) => j.id === ev.job_id) : -1;
        if (!prev || i < 0) {
          // Before the list has answered too: it keeps what the feed brought (`cameLive`).
          if (ev.event !== 'job.created' || (filter && filter !== ev.status)) return prev;
          const job: Job = {
            id: ev.job_id, type: ev.type, status: ev.status, attempts: ev.attempts, max_attempts: ev.max_attempts, progress: ev.progress,
            file_id: ev.file_id, user_id: null, last_error: ev.last_error, cancel_requested: false, created_at: ev.at, started_at: null, finished_at: null,
          };
          cameLive.current.add(job.id);
          return [job, ...(prev ?? [])];
        }
        const old = prev[i]!;
        const done = ev.status === 'completed' || ev.status === 'failed' || ev.status === 'cancelled';
        const job: Job = {
          ...old, status: ev.status, attempts: ev.attempts, progress: ev.status === 'completed' ? 100 : ev.progress, last_error: ev.last_error,
          cancel_requested: ev.event === 'job.cancel_requested' || (old.cancel_requested && !done),
          started_at: ev.event === 'job.started' ? ev.at : old.started_at, finished_at: done ? ev.at : old.finished_at,
        };
        return prev.map((j, k) => (k === i ? job : j));
      });
      // The counts follow the feed without a request per event.
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => refreshStats().catch(() => undefined), 400);
    };
    const open = () => {
      if (closed) return;
      const url = lastId.current ? `/api/queue/events?last_event_id=${encodeURIComponent(lastId.current)}` : '/api/queue/events';
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => setLive('live');
      source.onerror = () => {
        if (!source || source.readyState !== EventSource.CLOSED) {
          setLive('reconnecting'); // the browser retries on its own, sending Last-Event-ID
          return;
        }
        // Refused (e.g. the access cookie expired): renew the session through the API client, then resume.
        setLive('reconnecting');
        source = null;
        // With no event seen yet there is nothing to resume from: the list is read again instead.
        const reopen = () => {
          if (!lastId.current) void load();
          open();
        };
        api('GET', '/api/profile').then(reopen, () => setTimeout(reopen, 5000));
      };
      for (const name of EVENTS) source.addEventListener(name, apply as EventListener);
    };
    open();
    return () => {
      closed = true;
      clearTimeout(refreshTimer);
      source?.close();
    };
  }, [filter, load, refreshStats]);

  // File names come with the listed jobs; a job that arrived by the live feed borrows its file's
  // from them, or asks for it (a new upload's file is in no listed job: its id showed).
  const listedNames = new Map((jobs ?? []).flatMap((j) => (j.file_id && j.file_name ? [[j.file_id, j.file_name] as const] : [])));
  // A listed job whose `file_name` is null is about a file that is gone: nothing to ask for (it was asked, a 404 each).
  const fetched = useFileNames((jobs ?? []).flatMap((j) => (j.file_id && j.file_name === undefined && !listedNames.has(j.file_id) ? [j.file_id] : [])));
  const nameOf = (fileId: string) => listedNames.get(fileId) ?? fetched.get(fileId) ?? null;

  useEffect(() => {
    const want = refocus.current;
    if (!want) return;
    refocus.current = null;
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (!lost) return;
    // Its action buttons first (the file's link comes before them in the row).
    const control = (id: string | null) => {
      const row = id ? document.querySelector(`tr[data-job="${CSS.escape(id)}"]`) : null;
      return row?.querySelector<HTMLElement>('.row-actions button') ?? row?.querySelector<HTMLElement>('a[href]') ?? null;
    };
    const target = control(want.row) ?? control(want.then) ?? document.getElementById('jobs-title');
    target?.focus();
  });

  const act = async (job: Job, action: 'retry' | 'cancel' | 'delete') => {
    setMessage(null);
    const rows = jobs ?? [];
    const at = rows.findIndex((j) => j.id === job.id);
    // Armed with the change it follows: armed before the request, a render while it ran (a live
    // event) spent it with the focus still on the button, and the deleted row then dropped it.
    const want = { row: job.id, then: (rows[at + 1] ?? rows[at - 1])?.id ?? null };
    try {
      if (action === 'delete') {
        await api('DELETE', `/api/queue/jobs/${job.id}`);
        refocus.current = want;
        setJobs((prev) => prev?.filter((j) => j.id !== job.id) ?? prev);
        setMessage({ ok: true, text: 'Job deleted.' });
      } else {
        const updated = await api<Job>('POST', `/api/queue/jobs/${job.id}/${action}`);
        refocus.current = want;
        setJobs((prev) => prev?.map((j) => (j.id === job.id ? { ...j, ...updated } : j)) ?? prev);
        setMessage({ ok: true, text: action === 'retry' ? 'Job queued again.' : updated.status === 'cancelled' ? 'Job cancelled.' : 'Cancel requested; the job stops at its next check.' });
      }
      refreshStats().catch(() => undefined);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };

  return (
    <div class="page insights">
      <header class="page-head">
        <h1 id="jobs-title" tabIndex={-1}>Jobs</h1>
        <p class="lede">
          Background work {admin ? 'of every account (you are an administrator)' : 'for your files'}: thumbnails and metadata after an upload, video renditions, removal of deleted files.
          <span class={`live ${live}`} role="status">{live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}</span>
        </p>
      </header>
      <div class="stat-tiles" role="group" aria-label="Filter by status">
        <button type="button" class="tile" aria-pressed={filter === ''} onClick={() => setFilter('')}>
          <span class="tile-n">{counts ? STATUSES.reduce((s, k) => s + counts[k], 0) : '—'}</span><span>All</span>
        </button>
        {STATUSES.map((s) => (
          <button type="button" key={s} class={`tile st-${s}`} aria-pressed={filter === s} onClick={() => setFilter(s)}>
            <span class="tile-n" data-count={s}>{counts ? counts[s] : '—'}</span><span>{LABEL[s]}</span>
          </button>
        ))}
      </div>
      <div class="job-filters">
        <label>
          <span>Type</span>
          <select value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All types</option>
            {types.map(([t, n]) => <option key={t} value={t}>{TYPES[t] ?? t} ({n})</option>)}
            {type && !types.some(([t]) => t === type) && <option value={type}>{TYPES[type] ?? type} (0)</option>}
          </select>
        </label>
        {admin && (
          <label class="check">
            <input type="checkbox" checked={housekeeping} onChange={(e) => {
              const on = (e.currentTarget as HTMLInputElement).checked;
              setHousekeeping(on);
              if (!on) setType(''); // a housekeeping type chosen meanwhile would list nothing now
            }} />
            Show the server’s housekeeping (expiring files every minute, pruning)
          </label>
        )}
      </div>
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
      {!jobs ? <p class="loading" role="status">Loading jobs…</p> : jobs.length === 0 ? (
        <p class="empty">{['No', filter && LABEL[filter].toLowerCase(), type && `“${TYPES[type] ?? type}”`, 'jobs.'].filter(Boolean).join(' ')} Upload an image and its thumbnails are made here.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Jobs">
          <table class="table job-table card-rows">
            <caption class="sr-only">Jobs, newest first</caption>
            <thead>
              <tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">File</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-job={j.id} data-status={j.status}>
                  <td>
                    <div>{TYPES[j.type] ?? j.type}{detail(j)}</div>
                    <div class="muted mono">{j.type} · {j.id.slice(0, 8)}{j.attempts > 1 ? ` · attempt ${j.attempts}/${j.max_attempts}` : ''}</div>
                    {j.last_error && j.status !== 'completed' && <div class="error small-text">{j.last_error}</div>}
                  </td>
                  <td><span class={`badge st-${j.status}`}>{LABEL[j.status]}{j.cancel_requested && j.status === 'running' ? ' (cancelling)' : ''}</span></td>
                  <td class="progress-cell">
                    <progress max={100} value={j.status === 'pending' ? undefined : j.progress} aria-label={`Progress of job ${j.id.slice(0, 8)}`} />
                    <span class="muted">{j.status === 'pending' ? 'waiting' : `${j.progress}%`}</span>
                  </td>
                  <td class="file-cell" data-label={j.file_id ? 'File' : undefined}><FileCell id={j.file_id} name={j.file_id ? nameOf(j.file_id) : null} gone={j.file_name === null && !(j.file_id && nameOf(j.file_id))} /></td>
                  <td class="nowrap" data-label="Created">{time(j.created_at)}</td>
                  <td class="row-actions">
                    {(j.status === 'failed' || j.status === 'cancelled') && <button type="button" class="small" onClick={() => act(j, 'retry')}>Retry</button>}
                    {(j.status === 'pending' || (j.status === 'running' && !j.cancel_requested)) && <button type="button" class="small" onClick={() => act(j, 'cancel')}>Cancel</button>}
                    {(j.status === 'completed' || j.status === 'failed' || j.status === 'cancelled') && <button type="button" class="small danger" onClick={() => act(j, 'delete')} aria-label={`Delete job ${j.id.slice(0, 8)}`}>Delete</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <p><button type="button" onClick={() => load(next)}>Show older jobs</button></p>}
    </div>
  );
}
