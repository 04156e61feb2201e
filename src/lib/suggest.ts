/**
 * "Did you mean …?" for misspelt input names: the known name a caller most likely meant, or
 * undefined when none is close. Used by the unknown-input errors (src/inputs.ts, uploads).
 */

/** Case, `_`, `-` and spaces ignored: `isPublic`, `IS_PUBLIC` and `is-public` all mean `is_public`. */
const fold = (s: string): string => s.toLowerCase().replace(/[-_ ]/g, '');

/** Edit distance with adjacent transpositions (optimal string alignment), stopping early above `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * What other APIs call the parameters Pictor names otherwise: `?order=desc` was met with
 * "did you mean folder?", one edit away, where `sort` was meant.
 */
const SYNONYMS: ReadonlyMap<string, readonly string[]> = new Map(Object.entries({
  sort: ['order', 'orderby', 'sortby', 'sortorder', 'direction'],
  limit: ['perpage', 'pagesize'],
  cursor: ['page', 'offset', 'after', 'pagetoken', 'nextcursor', 'starting_after'],
  is_public: ['public', 'visibility'],
  q: ['search', 'query'],
  content_type: ['mime', 'mimetype'],
}));

/**
 * The known name closest to `name`: an exact match after folding case and separators, else a
 * known name other APIs spell `name` (SYNONYMS), else the nearest within 1 edit (names up to 4
 * characters) or 2 edits (longer names); ties go to the first in `known`.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const folded = fold(name);
  if (folded === '') return undefined;
  const same = known.find((k) => fold(k) === folded);
  if (same !== undefined) return same;
  const synonym = known.find((k) => SYNONYMS.get(k)?.some((other) => fold(other) === folded));
  if (synonym !== undefined) return synonym;
  const max = folded.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestD = max + 1;
  for (const k of known) {
    const d = distance(folded, fold(k), max);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}
