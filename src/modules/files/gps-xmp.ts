/**
 * Location in an XMP packet (JPEG APP1, WebP `XMP `, TIFF tag 700, HEIF `mime` item, PNG iTXt):
 * every `…:GPS*` property of the EXIF schema, as an attribute (`exif:GPSLatitude="…"`) or as an
 * element (`<exif:GPSLatitude>…</exif:GPSLatitude>`, `<exif:GPSVersionID/>`), is overwritten
 * with spaces. XML allows whitespace in both places, so the packet stays well-formed and keeps
 * its length: nothing else in the file moves.
 */
import type { Patch } from './gps-tiff';

const PROPERTY = String.raw`[A-Za-z_][\w.-]*:GPS\w+`;
const PATTERNS = [
  new RegExp(String.raw`\s${PROPERTY}\s*=\s*("[^"]*"|'[^']*')`, 'g'),
  new RegExp(String.raw`<(${PROPERTY})(\s[^>]*)?>[\s\S]*?</\1\s*>`, 'g'),
  new RegExp(String.raw`<${PROPERTY}(\s[^>]*)?/>`, 'g'),
];

/** True when the XMP text names a GPS property. */
export const xmpHasGps = (xmp: Uint8Array): boolean => new RegExp(`${PROPERTY}`).test(Buffer.from(xmp).toString('latin1'));

/** Space-filling patches for every GPS property of an XMP packet at absolute offset `base`. */
export function xmpGpsPatches(xmp: Uint8Array, base: number): Patch[] {
  // latin1 maps each byte to one character, so string indices are byte offsets (XMP is UTF-8).
  let text = Buffer.from(xmp).toString('latin1');
  const patches: Patch[] = [];
  for (const re of PATTERNS) {
    text = text.replace(re, (match: string, ...rest: unknown[]) => {
      const at = rest.find((r) => typeof r === 'number') as number;
      patches.push({ offset: base + at, bytes: new Uint8Array(match.length).fill(0x20) });
      return ' '.repeat(match.length); // later patterns see the blanked text
    });
  }
  return patches;
}
