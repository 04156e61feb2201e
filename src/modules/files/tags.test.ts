/** The tag and metadata rules (files/tags.ts): normalisation, bounds and the refusals' paths. */
import { describe, expect, test } from 'bun:test';
import { AppError } from '../../errors';
import { checkMeta, MAX_TAGS, parseMetaField, parseTags } from './tags';

const refused = (fn: () => unknown): { status: number; path?: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { status: err.status, path: (err.details?.fields as { path: string }[] | undefined)?.[0]?.path };
    throw err;
  }
  throw new Error('not refused');
};

describe('tags', () => {
  test('lower-cased, trimmed, unique, split on commas; inner spaces and `_ - . : /` kept', () => {
    expect(parseTags(['Beach, holiday ', 'BEACH', ' new york ,2026', 'a:b/c_d-e.f'])).toEqual(['beach', 'holiday', 'new york', '2026', 'a:b/c_d-e.f']);
    expect(parseTags(['', ' , '])).toEqual([]);
    expect(parseTags(['Ünïcode', '東京'])).toEqual(['ünïcode', '東京']);
    // Combining marks: lower-cased İ is i + U+0307 (it was "not a tag"); a decomposed é is stored composed.
    expect(parseTags(['İstanbul', 'cafe\u0301', 'ṩ\u0323'])).toEqual(['i\u0307stanbul', 'café', 'ṩ\u0323'.normalize('NFC')]);
    expect(refused(() => parseTags(['\u0301x']))).toEqual({ status: 400, path: '/tags' }); // a mark cannot begin a tag
    // One stored form for one tag, however its accents were encoded: the filter finds both.
    expect(parseTags(['café'])).toEqual(parseTags(['cafe\u0301']));
  });
  test('refused: punctuation, a leading symbol, over 64 characters, more than the maximum', () => {
    for (const bad of ['a;b', '<b>', '-x', 'x'.repeat(65), 'tab\there']) expect(refused(() => parseTags([bad]))).toEqual({ status: 400, path: '/tags' });
    expect(refused(() => parseTags([Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`).join(',')])).status).toBe(400);
    expect(parseTags([Array.from({ length: MAX_TAGS }, (_, i) => `t${i}`).join(',')])).toHaveLength(MAX_TAGS);
  });
});

describe('custom metadata', () => {
  test('a flat object of strings', () => {
    expect(parseMetaField('{"camera":"x100v","trip.year":"2026"}')).toEqual({ camera: 'x100v', 'trip.year': '2026' });
    expect(checkMeta({})).toEqual({});
  });
  test('refused: not JSON, not an object, nested or non-string values, bad keys, long values', () => {
    expect(refused(() => parseMetaField('nope'))).toEqual({ status: 400, path: '/metadata' });
    expect(refused(() => parseMetaField('[1]')).status).toBe(400);
    expect(refused(() => checkMeta({ a: { b: 'c' } })).path).toBe('/custom_metadata/a');
    expect(refused(() => checkMeta({ a: 1 })).status).toBe(400);
    expect(refused(() => checkMeta({ 'bad key': 'v' })).status).toBe(400);
    expect(refused(() => checkMeta({ k: 'v'.repeat(1025) })).status).toBe(400);
    expect(refused(() => checkMeta(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))).status).toBe(400);
  });
});
