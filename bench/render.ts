/**
 * Re-renders the markdown summary of a results file (e.g. after the target notes were
 * improved): `bun bench/render.ts results/<ts>.json` rewrites `results/<ts>.md`. Figures and
 * ratios come from the JSON unchanged.
 */
import { TARGET_NOTES } from './lib/notes';
import { renderMarkdown, type Entry, type Ratio } from './lib/report';

const file = process.argv[2];
if (!file?.endsWith('.json')) {
  console.error('usage: bun bench/render.ts bench/results/<timestamp>.json');
  process.exit(2);
}
const r = (await Bun.file(file).json()) as { meta: Record<string, unknown>; entries: Record<string, Entry>; ratios: Ratio[] };
const md = renderMarkdown(r.meta, r.entries, r.ratios, TARGET_NOTES);
await Bun.write(file.replace(/\.json$/, '.md'), md);
console.log(md);
