/** Name sanitising and folder checks (API.md §4; issue #17 point 14: bidi and invisible characters). */
import { describe, expect, test } from 'bun:test';
import { decodeHeaderFileName, normalizeFolder, sanitizeName } from './names';

describe('sanitizeName', () => {
  test('bidi embeddings, overrides, isolates and marks are removed', () => {
    // U+202E makes "invoice\u202Efdp.exe" display as "invoiceexe.pdf".
    expect(sanitizeName('invoice\u202Efdp.exe', 'x')).toBe('invoicefdp.exe');
    const bidi = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
    for (const c of bidi) expect(sanitizeName(`a${c}b.png`, 'x')).toBe('ab.png');
  });

  test('zero-width and other format characters, C0/C1 controls and line separators are removed', () => {
    for (const c of ['\u200B', '\u2060', '\uFEFF', '\u00AD', '\u0000', '\u0007', '\r', '\n', '\u0085', '\u009B', '\u2028', '\u2029', '\u{E0041}']) {
      expect(sanitizeName(`re${c}port.pdf`, 'x')).toBe('report.pdf');
    }
    // Joiners next to ASCII hide text; between emoji they are part of the sequence and stay.
    expect(sanitizeName('pay\u200Dpal.png', 'x')).toBe('paypal.png');
    expect(sanitizeName('\u200Cpaypal.png\u200D', 'x')).toBe('paypal.png');
    expect(sanitizeName('👨\u200D👩\u200D👧.png', 'x')).toBe('👨\u200D👩\u200D👧.png');
  });

  test('a name cut to its limit is cut between characters, never inside an emoji (it kept half of one: U+FFFD once stored)', () => {
    const name = sanitizeName(`${'a'.repeat(254)}😀😀`, 'x');
    expect(name).toBe('a'.repeat(254));
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
    const withExt = sanitizeName(`${'b'.repeat(250)}😀😀.jpg`, 'x');
    expect(withExt).toBe(`${'b'.repeat(250)}.jpg`);
  });

  test('ordinary names, accents and right-to-left scripts are kept', () => {
    expect(sanitizeName('Résumé 2026.pdf', 'x')).toBe('Résumé 2026.pdf');
    expect(sanitizeName('صورة.png', 'x')).toBe('صورة.png');
    expect(sanitizeName('\u202E\u200B', 'fallback.png')).toBe('fallback.png');
  });
});

describe('normalizeFolder', () => {
  test('bidi overrides and zero-width characters in a folder are refused (400)', () => {
    for (const f of ['/a\u202Eb', '/x/\u2066y', '/pay\u200Bpal', '/a\u0085b', '/a\u200Db']) {
      expect(() => normalizeFolder(f)).toThrow(/invisible formatting/);
    }
    expect(normalizeFolder('/holidays/صورة/👨\u200D👩')).toBe('/holidays/صورة/👨\u200D👩');
  });

  test('a folder name is at most 255 bytes of UTF-8, as on a file system (300 were accepted)', () => {
    expect(normalizeFolder(`/a/${'x'.repeat(255)}`, 'folder', true)).toBe(`/a/${'x'.repeat(255)}`);
    expect(() => normalizeFolder(`/a/${'x'.repeat(256)}`, 'folder', true)).toThrow(/each folder name at most 255 bytes/);
    expect(() => normalizeFolder(`/a/${'é'.repeat(128)}`, 'folder', true)).toThrow(/each folder name at most 255 bytes/); // 256 bytes
    // Reads still reach a folder made before the limit.
    expect(normalizeFolder(`/a/${'x'.repeat(256)}`)).toBe(`/a/${'x'.repeat(256)}`);
  });
});

describe('decodeHeaderFileName', () => {
  test('the UTF-8\'\' form is percent-decoded, and refused when it does not decode (it was stored as typed)', () => {
    expect(decodeHeaderFileName(`UTF-8''${encodeURIComponent('café 100%.png')}`)).toBe('café 100%.png');
    for (const bad of ["UTF-8''%ZZ.png", "utf-8''%E9t%C3.png", "UTF-8''a%FFb.png"]) expect(() => decodeHeaderFileName(bad)).toThrow('percent-encoded UTF-8');
    // A plain name keeps a % of its own.
    expect(decodeHeaderFileName('100%.png')).toBe('100%.png');
  });
});
