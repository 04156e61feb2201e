/**
 * A small SVG chart: bars and/or lines over labelled points, a y axis with three ticks, a
 * legend, and a tooltip per point (`<title>`). Hand-drawn rather than a chart library: the app
 * needs only these two shapes, and this stays under 2 KB where uPlot or Chart.js would add 20 to
 * 70 KB gzipped to the app's 150 KB budget. The SVG is one `role="img"` with a sentence for
 * screen readers; the numbers are also in the page's text.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Series {
  name: string;
  values: number[];
  kind: 'bar' | 'line';
  /** CSS class choosing the colour (`c1`…`c4`). */
  tone: string;
}

const PAD = { l: 52, r: 8, t: 10, b: 24 };

/**
 * A round axis maximum at or above `v` whose half is round too: for counts 2, 4 or 10 × a
 * power of ten (ticks stay whole numbers), for bytes 1, 2 or 5 × a power of ten of a power of
 * 1024 (the axis reads 200 KiB, not 195 KiB).
 */
function niceMax(v: number, bytes: boolean): number {
  if (!bytes) {
    if (v <= 2) return 2;
    const p = 10 ** Math.floor(Math.log10(v));
    return ([2, 4, 10].find((m) => m * p >= v) ?? 20) * p;
  }
  if (v <= 0) return 1024;
  const unit = 1024 ** Math.max(0, Math.floor(Math.log(v) / Math.log(1024)));
  const x = v / unit;
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 5].find((m) => m * p >= x) ?? 10) * p * unit;
}

export function Chart({ labels, series, format, summary, id, bytes = false, width: initialWidth = 400, height: H = 170 }: {
  labels: string[];
  series: Series[];
  format: (n: number) => string;
  summary: string;
  id: string;
  /** Values are bytes (axis steps in KiB/MiB/GiB). */
  bytes?: boolean;
  /** The drawing's width before its box is measured; then it is drawn at the box's width, so text stays 11 px on a phone too. */
  width?: number;
  height?: number;
}) {
  const box = useRef<HTMLElement>(null);
  const [measured, setMeasured] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([e]) => setMeasured(Math.round(e!.contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const W = measured > 0 ? measured : initialWidth;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)), bytes);
  const n = Math.max(1, labels.length);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const step = iw / n;
  const bars = series.filter((s) => s.kind === 'bar');
  const bw = Math.min(28, Math.max(1, (step * 0.72) / Math.max(1, bars.length)));
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  // At most one label per 56 px, so times and dates never overlap on a narrow screen.
  const every = Math.ceil(n / Math.max(2, Math.min(10, Math.floor(iw / 56))));
  return (
    <figure class="chart" id={id} ref={box}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(max * f)} y2={y(max * f)} />
            <text class="axis" x={PAD.l - 6} y={y(max * f) + 4} text-anchor="end">{format(max * f)}</text>
          </g>
        ))}
        {labels.map((l, i) => (i % every === 0 || i === n - 1) && (
          <text key={l} class="axis" x={PAD.l + step * i + step / 2} y={H - 6} text-anchor="middle">{l}</text>
        ))}
        {bars.map((s, k) => s.values.map((v, i) => (
          <rect key={`${s.name}${i}`} class={`bar ${s.tone}`} x={PAD.l + step * i + (step - bw * bars.length) / 2 + k * bw} y={y(v)} width={bw} height={Math.max(0, PAD.t + ih - y(v))} rx={Math.min(3, bw / 3)}>
            <title>{`${labels[i]}: ${format(v)} ${s.name}`}</title>
          </rect>
        )))}
        {series.filter((s) => s.kind === 'line').map((s) => (
          <g key={s.name} class={`line ${s.tone}`}>
            <polyline fill="none" points={s.values.map((v, i) => `${PAD.l + step * i + step / 2},${y(v)}`).join(' ')} />
            {s.values.map((v, i) => (
              <circle key={i} cx={PAD.l + step * i + step / 2} cy={y(v)} r={n > 40 ? 1.5 : 3}>
                <title>{`${labels[i]}: ${format(v)} ${s.name}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      {series.length > 1 && (
        <figcaption class="legend">
          {series.map((s) => <span key={s.name}><i class={`swatch ${s.tone}`} aria-hidden="true" />{s.name}</span>)}
        </figcaption>
      )}
    </figure>
  );
}

/** A ring gauge: `used` of `total` (null total = unlimited, drawn as an empty ring). */
export function Gauge({ label, used, total, format }: { label: string; used: number; total: number | null; format: (n: number) => string }) {
  const share = total ? Math.min(1, used / total) : 0;
  const r = 42;
  const c = 2 * Math.PI * r;
  const pct = Math.round(share * 100);
  const tone = share >= 0.9 ? 'hot' : share >= 0.7 ? 'warm' : '';
  return (
    <div class={`gauge ${tone}`}>
      <svg viewBox="0 0 100 100" role="img" aria-label={total ? `${label}: ${format(used)} of ${format(total)} (${pct}%)` : `${label}: ${format(used)}, unlimited`}>
        <circle class="track" cx="50" cy="50" r={r} />
        {share > 0 && <circle class="fill" cx="50" cy="50" r={r} stroke-dasharray={`${c * share} ${c}`} transform="rotate(-90 50 50)" />}
        <text x="50" y="55" text-anchor="middle" class="pct">{total ? `${pct}%` : '∞'}</text>
      </svg>
      <div>
        <div class="gauge-label">{label}</div>
        <div class="gauge-value" data-testid={`gauge-${label.toLowerCase()}`}>{format(used)}</div>
        <div class="muted">{total ? `of ${format(total)}` : 'no limit on your plan'}</div>
      </div>
    </div>
  );
}
