/**
 * Compares the ratios of two bench results: `bun bench/compare.ts <a.json> <b.json>`.
 * Ratios are what should survive a noisy machine; this prints each side by side with the
 * relative change, so "a second run produces comparable ratios" is a table, not a feeling.
 */
import type { Ratio } from './lib/report';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: bun bench/compare.ts <first.json> <second.json>');
  process.exit(2);
}
const load = async (p: string) => ((await Bun.file(p).json()) as { meta: { date: string }; ratios: Ratio[] });
const [ra, rb] = [await load(a), await load(b)];
const second = new Map(rb.ratios.map((r) => [r.name, r]));
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(2));
console.log(`| measure | ${ra.meta.date} | ${rb.meta.date} | change | target met (1st / 2nd) |`);
console.log('|---|---:|---:|---:|---|');
for (const r of ra.ratios) {
  const o = second.get(r.name);
  const change = r.value && o?.value ? `${(((o.value - r.value) / r.value) * 100).toFixed(0)} %` : '—';
  const met = (m: boolean | null | undefined) => (m === undefined ? '' : m === null ? 'n/a' : m ? 'met' : 'not met');
  console.log(`| ${r.name} | ${fmt(r.value)} | ${fmt(o?.value)} | ${change} | ${met(r.met)} / ${met(o?.met)} |`);
}
