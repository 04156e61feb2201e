/**
 * The one font text layers use: DejaVu Sans (assets/fonts/DejaVuSans.ttf, from the npm package
 * `dejavu-fonts-ttf` 2.37.3; Bitstream Vera licence with public-domain DejaVu changes, see
 * assets/fonts/DejaVuSans-LICENSE.txt). It is handed to Pango as a file, and text is limited to
 * the characters this file has (its `cmap`), so Pango never falls back to a system font.
 *
 * `assets/fonts/fonts.conf` is a fontconfig that sees only this directory: with
 * `FONTCONFIG_FILE` pointing at it (the Docker image sets it; it must be in the environment
 * before the process starts, fontconfig reads it once) Pango cannot see a system font at all.
 *
 * The few header fields read here also bound the text raster before it is drawn: no glyph is
 * wider than `advanceWidthMax`, and one line is no taller than ascender − descender + lineGap.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FONT_FILE = fileURLToPath(new URL('../../../assets/fonts/DejaVuSans.ttf', import.meta.url));
/** The family name in the file (Pango's font description). */
export const FONT_FAMILY = 'DejaVu Sans';

export interface FontMetrics {
  unitsPerEm: number;
  /** Widest glyph advance, in em. */
  maxAdvance: number;
  /** Ascender − descender + line gap, in em. */
  lineHeight: number;
  /** Code points the font maps to a glyph. */
  covers: (cp: number) => boolean;
}

/** Reads `head`, `hhea` and the Unicode `cmap` subtables (formats 4 and 12) of a TrueType file. */
export function readFontMetrics(bytes: Buffer): FontMetrics {
  const tables = new Map<string, number>();
  const count = bytes.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const at = 12 + 16 * i;
    tables.set(bytes.toString('latin1', at, at + 4), bytes.readUInt32BE(at + 8));
  }
  const table = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`font has no ${tag} table`);
    return at;
  };
  const head = table('head');
  const hhea = table('hhea');
  const unitsPerEm = bytes.readUInt16BE(head + 18);
  const ascender = bytes.readInt16BE(hhea + 4);
  const descender = bytes.readInt16BE(hhea + 6);
  const lineGap = bytes.readInt16BE(hhea + 8);
  const advanceWidthMax = bytes.readUInt16BE(hhea + 10);

  const ranges: [number, number][] = [];
  const cmap = table('cmap');
  const subtables = bytes.readUInt16BE(cmap + 2);
  for (let i = 0; i < subtables; i++) {
    const platform = bytes.readUInt16BE(cmap + 4 + 8 * i);
    const at = cmap + bytes.readUInt32BE(cmap + 4 + 8 * i + 4);
    const format = bytes.readUInt16BE(at);
    if (platform !== 3 && platform !== 0) continue;
    if (format === 4) {
      const segX2 = bytes.readUInt16BE(at + 6);
      const ends = at + 14;
      const starts = ends + segX2 + 2;
      const deltas = starts + segX2;
      const offsets = deltas + segX2;
      for (let s = 0; s < segX2 / 2; s++) {
        const end = bytes.readUInt16BE(ends + 2 * s);
        const start = bytes.readUInt16BE(starts + 2 * s);
        if (start === 0xffff) continue;
        const rangeOffset = bytes.readUInt16BE(offsets + 2 * s);
        if (rangeOffset === 0) {
          ranges.push([start, end]);
          continue;
        }
        // Glyph ids read through the array: only code points whose glyph is not 0 (.notdef).
        for (let cp = start; cp <= end; cp++) {
          const glyphAt = offsets + 2 * s + rangeOffset + 2 * (cp - start);
          if (bytes.readUInt16BE(glyphAt) !== 0) ranges.push([cp, cp]);
        }
      }
    } else if (format === 12) {
      const groups = bytes.readUInt32BE(at + 12);
      for (let g = 0; g < groups; g++) ranges.push([bytes.readUInt32BE(at + 16 + 12 * g), bytes.readUInt32BE(at + 20 + 12 * g)]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const covers = (cp: number) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [s, e] = ranges[mid] as [number, number];
      if (cp < s) hi = mid - 1;
      else if (cp > e) lo = mid + 1;
      else return true;
    }
    return false;
  };
  return { unitsPerEm, maxAdvance: advanceWidthMax / unitsPerEm, lineHeight: (ascender - descender + lineGap) / unitsPerEm, covers };
}

let metrics: FontMetrics | undefined;
/** The bundled font's metrics, read once. */
export function fontMetrics(): FontMetrics {
  metrics ??= readFontMetrics(readFileSync(FONT_FILE));
  return metrics;
}

/** Whether the bundled font draws this code point (text outside it is refused, not substituted). */
export const fontCovers = (cp: number): boolean => fontMetrics().covers(cp);
