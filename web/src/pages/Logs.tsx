/**
 * The request log (issue #21, API.md §3 `GET /api/logs`): the account's own requests, newest
 * first, filtered by status class, method and a start time, paged by the API's cursor. Filters
 * live in the address (`/logs?status=4xx`), so a filtered view can be bookmarked or shared.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, formatBytes, formatWhen, type Page } from '../api';
import { navigate, type Route } from '../router';
import type { ApiKey } from '../components/scopes';
import { BusyButton } from '../components/BusyButton';

interface Entry {
  id: string;
  method: string;
  path: string;
  status_code: number;
  duration_ms: number;
  request_size_bytes: number | null;
  response_size_bytes: number | null;
  ip: string | null;
  api_key_prefix: string | null;
  /** The `X-Request-Id` it was answered with (null for entries logged before ids were kept). */
  request_id: string | null;
  created_at: string;
}

const STATUSES = ['2xx', '3xx', '4xx', '5xx'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A time from the address may be anything (`since=yesterday`): toISOString throws on an
 * invalid date, which blanked the page.
 */
const validDate = (ms: number): Date | null => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms) : null);
/** `datetime-local` value ⇄ ISO-8601 (the input speaks this browser's local time); '' for what is no date. */
const localToIso = (v: string) => (v ? (validDate(new Date(v).getTime())?.toISOString() ?? '') : '');
const isoToLocal = (iso: string) => {
  const d = iso ? validDate(new Date(iso).getTime()) : null;
  return d ? (validDate(d.getTime() - d.getTimezoneOffset() * 60_000)?.toISOString().slice(0, 16) ?? '') : '';
};

/** The request id, shortened on screen (a UUID's first block), copied whole. */
function CopyId({ id }: { id: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(id);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      window.prompt('Copy the request id:', id);
    }
  };
  return (
    <button type="button" class="small id-copy" onClick={copy} aria-label={`Copy request id ${id}`} title={`${id} (click to copy)`}>
      <span class="mono">{id.length > 13 ? `${id.slice(0, 8)}…` : id}</span>
      {done ? (
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12l5 5 9-10" /></svg>
      ) : (
        <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="8" y="8" width="12" height="12" rx="2" /><path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3" /></svg>
      )}
      <span class="sr-only" role="status">{done ? 'Copied' : ''}</span>
    </button>
  );
}

export function Logs({ route }: { route: Route }) {
  const status = route.query.get('status') ?? '';
  const method = route.query.get('method') ?? '';
  const since = route.query.get('since') ?? '';
  const credential = route.query.get('credential') ?? '';
  // The account's keys name the "Made with" choices; the list works without them.
  const [keys, setKeys] = useState<ApiKey[]>([]);
  useEffect(() => {
    api<{ results: ApiKey[] }>('GET', '/api/auth/api-keys').then((p) => setKeys(p.results), () => undefined);
  }, []);
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [count, setCount] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);

  const query = (c?: string) => {
    const q = new URLSearchParams({ limit: '50' });
    if (status) q.set('status', status);
    if (method) q.set('method', method);
    if (since) q.set('since', since);
    if (credential) q.set('credential', credential);
    if (c) q.set('cursor', c);
    return `/api/logs?${q}`;
  };
  useEffect(() => {
    const n = ++latest.current;
    setError('');
    setLoading(true);
    api<Page<Entry>>('GET', query())
      .then((p) => {
        if (n !== latest.current) return;
        setEntries(p.results);
        setCount(p.count);
        setCursor(p.next_cursor);
      })
      .catch((err) => n === latest.current && setError(errorText(err)))
      .finally(() => n === latest.current && setLoading(false));
  }, [status, method, since, credential, tick]);

  const more = async () => {
    if (!cursor) return;
    const n = latest.current;
    setLoading(true);
    try {
      const p = await api<Page<Entry>>('GET', query(cursor));
      if (n !== latest.current) return;
      setEntries((e) => [...(e ?? []), ...p.results]);
      setCursor(p.next_cursor);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };
  const filter = (k: string, v: string) => {
    const q = new URLSearchParams(route.query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/logs${q.size ? `?${q}` : ''}`, true);
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>Request log</h1>
        <p class="lede">Every call made with your session or your API keys, newest first. New entries are written about once a second.</p>
      </div>
      <section class="card">
        <form class="toolbar filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
          <div class="ctl">
            <label for="f-status">Status</label>
            <select id="f-status" value={status} onChange={(e) => filter('status', (e.currentTarget as HTMLSelectElement).value)}>
              <option value="">Any status</option>
              {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </div>
          <div class="ctl">
            <label for="f-method">Method</label>
            <select id="f-method" value={method} onChange={(e) => filter('method', (e.currentTarget as HTMLSelectElement).value)}>
              <option value="">Any method</option>
              {METHODS.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </div>
          <div class="ctl">
            <label for="f-since">Since</label>
            <input id="f-since" type="datetime-local" value={isoToLocal(since)} onChange={(e) => filter('since', localToIso((e.currentTarget as HTMLInputElement).value))} />
          </div>
          <div class="ctl">
            <label for="f-credential">Made with</label>
            <select id="f-credential" value={credential} onChange={(e) => filter('credential', (e.currentTarget as HTMLSelectElement).value)}>
              <option value="">Anything</option>
              <option value="session">A session (this app)</option>
              <option value="api_key">Any API key</option>
              {keys.map((k) => <option key={k.id} value={k.key_prefix}>{k.name ? `${k.name} (${k.key_prefix}…)` : `${k.key_prefix}…`}</option>)}
              {/* A revoked key's prefix from a bookmarked address still filters; say which it is. */}
              {credential.startsWith('pk_') && !keys.some((k) => k.key_prefix === credential) && <option value={credential}>{credential}… (no longer listed)</option>}
            </select>
          </div>
          <div class="ctl-buttons">
            {(status || method || since || credential) && <button type="button" onClick={() => navigate('/logs', true)}>Clear filters</button>}
            <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
          </div>
        </form>
        {error && <p class="error" role="alert">{error}</p>}
        {/* Nothing is loading once the first page was refused (the error above says why). */}
        {!(entries === null && error) && (
          <p class="status-line" role="status">
            {entries === null ? 'Loading…' : `${count.toLocaleString()} ${count === 1 ? 'request' : 'requests'}${entries.length < count ? `, ${entries.length} shown` : ''}`}
          </p>
        )}
        {entries && entries.length === 0 && <p class="empty">No requests match these filters.</p>}
        {entries && entries.length > 0 && (
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Requests">
            <table class="table logs card-rows">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Duration</th>
                  <th scope="col" class="num">In / out</th>
                  <th scope="col">Made with</th>
                  <th scope="col">IP</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <td class="nowrap">{formatWhen(e.created_at, '—', true)}</td>
                    <td class="req"><span class={`method m-${e.method.toLowerCase()}`}>{e.method}</span> <span class="mono">{e.path}</span></td>
                    <td><span class={`badge s${String(e.status_code)[0]}`}>{e.status_code}</span></td>
                    <td class="num nowrap">{e.duration_ms < 10 ? e.duration_ms.toFixed(1) : Math.round(e.duration_ms)} ms</td>
                    <td class="num nowrap" data-label="In / out">{e.request_size_bytes === null ? '—' : formatBytes(e.request_size_bytes)} / {e.response_size_bytes === null ? 'stream' : formatBytes(e.response_size_bytes)}</td>
                    <td data-label="By">{e.api_key_prefix ? <code title="API key prefix">{e.api_key_prefix}…</code> : <span class="muted">session</span>}</td>
                    <td class="mono nowrap" data-label="IP">{e.ip ?? '—'}</td>
                    <td><CopyId id={e.request_id ?? e.id} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor && (
          <div class="actions">
            <BusyButton type="button" onClick={more} busy={loading}>{loading ? 'Loading…' : 'Show older requests'}</BusyButton>
          </div>
        )}
      </section>
    </div>
  );
}
