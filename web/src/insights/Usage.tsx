/** The usage page: gauges against the plan, charts of the month by day and of past months, the plan's rate limits. */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, formatBytes, type Profile } from '../api';
import { Chart, Gauge, type Series } from './Chart';
import './insights.css';

interface Counters { uploads: number; upload_bytes: number; origin_reads: number; image_ops: number; bytes_served: number; storage_bytes: number; files_count: number }
interface History { period: string; days: (Counters & { day: string })[]; months: (Counters & { period: string })[] }
interface MonthUsage { period: string; storage_bytes: number; files_count: number; origin_reads: number; image_ops: number; bytes_served: number }
interface Plan { max_upload_size_bytes: number; storage_quota_bytes: number | null; max_files: number | null; rate_limits?: Record<string, { limit: number; window_seconds: number | null }> }

const count = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : String(Math.round(n)));
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthName = (p: string) => `${MONTHS[Number(p.slice(5, 7)) - 1]} ${p.slice(2, 4)}`;

/** What each rate-limit bucket means, for people. */
const BUCKETS: Record<string, string> = {
  api: 'API calls',
  upload_bytes: 'Bytes uploaded',
  upload_count: 'Files uploaded',
  upload_concurrency: 'Uploads at once',
  transform: 'New renditions',
  public: 'Public deliveries per address',
  login: 'Sign-in attempts per account',
  login_ip: 'Sign-in attempts per address',
  register: 'Registrations per address',
  password_reset: 'Password-reset requests per address',
  sensitive: 'Sensitive account actions',
  refresh: 'Session refreshes per address',
  share_password: 'Share-link password tries',
};

function windowText(s: number | null): string {
  if (s === null) return 'at once';
  if (s % 86400 === 0) return s === 86400 ? 'per day' : `per ${s / 86400} days`;
  if (s % 3600 === 0) return s === 3600 ? 'per hour' : `per ${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? 'per minute' : `per ${s / 60} minutes`;
  return `per ${s} s`;
}

type Metric = { key: keyof Counters; title: string; format: (n: number) => string; kind: 'bar' | 'line'; tone: string; help: string };
const METRICS: Metric[] = [
  { key: 'storage_bytes', title: 'Storage', format: formatBytes, kind: 'line', tone: 'c1', help: 'Bytes stored at the end of each day.' },
  { key: 'uploads', title: 'Uploads', format: count, kind: 'bar', tone: 'c2', help: 'Files uploaded.' },
  { key: 'image_ops', title: 'Image operations', format: count, kind: 'bar', tone: 'c3', help: 'Renditions made (cache misses).' },
  { key: 'origin_reads', title: 'Origin reads', format: count, kind: 'bar', tone: 'c4', help: 'Originals served from /i and /d.' },
  { key: 'bytes_served', title: 'Bytes served', format: formatBytes, kind: 'bar', tone: 'c5', help: 'Originals and renditions delivered.' },
];

export function Usage({ profile }: { profile: Profile }) {
  const [usage, setUsage] = useState<MonthUsage | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [plan, setPlan] = useState<Plan>(profile.plan);
  const [range, setRange] = useState<'days' | 'months'>('days');
  /** The month shown by day: undefined = the current one. */
  const [period, setPeriod] = useState<string | undefined>(undefined);
  const [choices, setChoices] = useState<string[]>([]);
  const [error, setError] = useState('');

  useEffect(() => {
    const q = period ? `?period=${period}` : '';
    Promise.all([
      api<MonthUsage>('GET', `/api/usage${q}`),
      api<History>('GET', `/api/usage/history${q ? `${q}&` : '?'}months=12`),
      api<{ plan: Plan }>('GET', '/api/profile'),
    ])
      .then(([u, h, p]) => {
        setUsage(u);
        setHistory(h);
        setPlan(p.plan);
        if (!period) setChoices(h.months.map((m) => m.period).reverse());
      })
      .catch((err) => setError(errorText(err)));
  }, [period]);

  if (error) return <div class="page"><p class="error" role="alert">{error}</p></div>;
  if (!usage || !history) return <p class="loading" role="status">Loading your usage…</p>;

  const points = range === 'days' ? history.days : history.months;
  const labels = range === 'days' ? history.days.map((d) => String(Number(d.day.slice(8)))) : history.months.map((m) => monthName(m.period));
  const limits = Object.entries(plan.rate_limits ?? {});
  const month = `${MONTHS[Number(usage.period.slice(5, 7)) - 1]} ${usage.period.slice(0, 4)}`;
  const past = choices.length > 0 && usage.period !== choices[0]; // from the answer shown, not the one asked for
  const storageTotal = past ? history.days.at(-1)?.storage_bytes ?? 0 : usage.storage_bytes;
  const monthUploads = history.days.reduce((s, d) => s + d.uploads, 0);
  const totals: Record<string, number> = { origin_reads: usage.origin_reads, image_ops: usage.image_ops, bytes_served: usage.bytes_served, uploads: monthUploads };

  return (
    <div class="page insights">
      <header class="page-head">
        <h1>Usage</h1>
        <p class="lede">What your account holds now and what it did in {month}. Delivery counters are written every few seconds.</p>
      </header>
      <section class="gauges" aria-label="Quota">
        <div class="card"><Gauge label="Storage" used={usage.storage_bytes} total={plan.storage_quota_bytes} format={formatBytes} /></div>
        <div class="card"><Gauge label="Files" used={usage.files_count} total={plan.max_files} format={(n) => n.toLocaleString('en')} /></div>
        <div class="card month-totals">
          <h2>{past ? `In ${month}` : 'This month'}</h2>
          <dl class="stat-list">
            <div><dt>Uploads</dt><dd data-metric="uploads">{monthUploads.toLocaleString('en')}</dd></div>
            <div><dt>Image operations</dt><dd data-metric="image_ops">{usage.image_ops.toLocaleString('en')}</dd></div>
            <div><dt>Origin reads</dt><dd data-metric="origin_reads">{usage.origin_reads.toLocaleString('en')}</dd></div>
            <div><dt>Bytes served</dt><dd data-metric="bytes_served" data-value={usage.bytes_served}>{formatBytes(usage.bytes_served)}</dd></div>
          </dl>
        </div>
      </section>
      <div class="toolbar chart-range">
        <h2 class="grow">Over time</h2>
        <label for="usage-month" class="sr-only">Month shown by day</label>
        <select id="usage-month" value={usage.period} onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          setRange('days');
          setPeriod(v === choices[0] ? undefined : v);
        }}>
          {choices.map((c) => <option key={c} value={c}>{`${MONTHS[Number(c.slice(5, 7)) - 1]} ${c.slice(0, 4)}`}</option>)}
        </select>
        <div class="seg" role="group" aria-label="Range">
          <button type="button" aria-pressed={range === 'days'} onClick={() => setRange('days')}>By day</button>
          <button type="button" aria-pressed={range === 'months'} onClick={() => setRange('months')}>By month</button>
        </div>
      </div>
      <div class="charts">
        {METRICS.map((m) => {
          const values = points.map((p) => p[m.key] as number);
          const total = m.key === 'storage_bytes' ? storageTotal : range === 'days' ? totals[m.key] ?? 0 : values.reduce((s, v) => s + v, 0);
          const series: Series[] = [{ name: m.title.toLowerCase(), values, kind: m.kind, tone: m.tone }];
          return (
            <section class={`card chart-card${m.key === 'storage_bytes' ? ' wide' : ''}`} key={m.key} aria-labelledby={`h-${m.key}`}>
              <div class="chart-head">
                <h3 id={`h-${m.key}`}>{m.title}</h3>
                <span class="chart-total" data-chart-total={m.key} data-value={total}>{m.format(total)}{m.key === 'storage_bytes' ? (past ? ' at month end' : ' now') : range === 'days' ? (past ? ` in ${month}` : ' this month') : ' in 12 months'}</span>
              </div>
              <p class="help">{m.help}</p>
              <Chart id={`chart-${m.key}`} labels={labels} series={series} format={m.format} bytes={m.format === formatBytes} width={m.key === 'storage_bytes' ? 820 : 400}
                summary={`${m.title} ${range === 'days' ? `per day in ${month}` : 'per month'}: ${points.length ? `${m.format(Math.max(...values))} at most` : 'no data'}, ${m.format(total)} in total.`} />
            </section>
          );
        })}
      </div>
      <section class="card" aria-labelledby="h-limits">
        <h2 id="h-limits">Your plan</h2>
        <dl class="key-facts plan-facts">
          <div><dt>Largest upload</dt><dd>{formatBytes(plan.max_upload_size_bytes)}</dd></div>
          <div><dt>Storage</dt><dd>{plan.storage_quota_bytes === null ? 'unlimited' : formatBytes(plan.storage_quota_bytes)}</dd></div>
          <div><dt>Files</dt><dd>{plan.max_files === null ? 'unlimited' : plan.max_files.toLocaleString('en')}</dd></div>
        </dl>
        {limits.length === 0 ? <p class="muted">This server sets no rate limits.</p> : (
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">Rate limits</caption>
              <thead><tr><th scope="col">Limit</th><th scope="col" class="bucket-col">Bucket</th><th scope="col" class="num">Allowed</th><th scope="col">Window</th></tr></thead>
              <tbody>
                {limits.map(([bucket, r]) => (
                  <tr key={bucket}>
                    <td>{BUCKETS[bucket] ?? bucket}</td>
                    <td class="bucket-col"><code>{bucket}</code></td>
                    <td class="num">{bucket === 'upload_bytes' ? formatBytes(r.limit) : r.limit.toLocaleString('en')}</td>
                    <td>{windowText(r.window_seconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
