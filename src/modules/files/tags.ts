/**
 * Tags and key/value metadata on files (issue #25): validation shared by upload, PATCH and the
 * list filters. Tags are compared case-insensitively, so they are stored lower-case and unique;
 * commas separate tags in form fields and query strings, so a tag holds none. Metadata is a
 * flat object of strings (no nesting: a filter is one `key:value` pair), bounded in size.
 */
import { and, sql, type SQL } from 'drizzle-orm';
import { validationError } from '../../errors';
import { hasInvisible } from './names';
import { files } from './table';

export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 64;
export const MAX_META_KEYS = 32;
export const MAX_META_KEY_LENGTH = 64;
export const MAX_META_VALUE_LENGTH = 1024;

/** Letters or digits first, then letters, digits, `_ - . : /` and spaces inside. */
// Combining marks may follow a letter: lower-casing `İstanbul` gives `i` + U+0307, and a tag typed
// with a combining accent that NFC cannot compose keeps it (both were refused as "not a tag").
const TAG = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}_\-.:/ ]*[\p{L}\p{M}\p{N}_\-.:/])?$/u;
const META_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const TAG_RULE = `1–${MAX_TAG_LENGTH} characters: letters, digits, \`_ - . : /\` and inner spaces, starting with a letter or digit; stored lower-case; at most ${MAX_TAGS} per file`;
export const META_RULE = `a JSON object of at most ${MAX_META_KEYS} string values; keys 1–${MAX_META_KEY_LENGTH} characters of \`A-Z a-z 0-9 _ . -\` (starting with a letter or digit), values at most ${MAX_META_VALUE_LENGTH} characters`;

const bad = (path: string, message: string) => validationError(`Invalid ${path.slice(1)}: ${message}.`, [{ path, message }]);

/** One tag, normalised; throws 400 naming `path` when it breaks the rule. */
export function normalizeTag(raw: string, path = '/tags'): string {
  const tag = raw.trim().normalize('NFC').toLowerCase();
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || !TAG.test(tag)) throw bad(path, `${JSON.stringify(raw.slice(0, 80))} is not a tag (${TAG_RULE})`);
  return tag;
}

/**
 * A file's tags from comma-separated strings (upload fields, where `a,,b` is two tags) or, with
 * `oneEach`, from a list of one tag per item (PATCH: a blank item or `a,b` is refused, where it
 * was dropped or split without a word): normalised, unique, bounded.
 */
export function parseTags(values: readonly string[], path = '/tags', oneEach = false): string[] {
  const items = oneEach ? values : values.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
  // A list's item is named by its index (`/tags/1`), as the schema's own errors name theirs.
  const tags = [...new Set(items.map((v, i) => normalizeTag(v, oneEach ? `${path}/${i}` : path)))];
  if (tags.length > MAX_TAGS) throw bad(path, `at most ${MAX_TAGS} tags per file, got ${tags.length}`);
  return tags;
}

/** Checks a metadata object (PATCH body, or parsed from an upload field). */
export function checkMeta(value: unknown, path = '/custom_metadata'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(path, `expected ${META_RULE}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_META_KEYS) throw bad(path, `at most ${MAX_META_KEYS} keys, got ${entries.length}`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length > MAX_META_KEY_LENGTH || !META_KEY.test(k)) throw bad(`${path}/${k.slice(0, 80)}`, `key must be ${MAX_META_KEY_LENGTH} characters at most of A-Z a-z 0-9 _ . - (starting with a letter or digit)`);
    if (typeof v !== 'string') throw bad(`${path}/${k}`, 'values are strings');
    if (v.length > MAX_META_VALUE_LENGTH) throw bad(`${path}/${k}`, `at most ${MAX_META_VALUE_LENGTH} characters`);
    // As names and folders: a value shown in the app must read as stored (`a\u202eb` turned the
    // text around); line breaks (`\n`, or `\r\n` from Windows) and tabs stay, a description may have them.
    if (hasInvisible(v.replace(/[\r\n\t]/g, ''))) throw bad(`${path}/${k}`, 'no control characters other than line breaks and tabs, and no invisible formatting (bidi overrides, zero-width characters)');
    out[k] = v;
  }
  return out;
}

/** The `metadata` upload field / query parameter: a JSON object (see `META_RULE`). */
export function parseMetaField(raw: string, path = '/metadata'): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw bad(path, `not JSON; expected ${META_RULE}`);
  }
  return checkMeta(value, path);
}

/**
 * The list filters: every `tag` must be on the file (`tags @> …`); each `meta` is `key:value`
 * (that exact value) or `key` (the key is set). Both use the GIN indexes of files/table.ts.
 */
export function tagMetaFilters(tagValues: readonly string[], metaValues: readonly string[]): SQL | undefined {
  const conditions: SQL[] = [];
  const items = tagValues.flatMap((v) => v.split(','));
  // `tag=` or `tag=,` filtered nothing: every file was listed, as if no tag had been asked for.
  if (items.some((v) => v.trim() === '')) throw bad('/tag', 'each tag needs a name (`tag=holiday` or `tag=holiday,beach`)');
  const tags = [...new Set(items.map((v) => normalizeTag(v, '/tag')))];
  if (tags.length) conditions.push(sql`${files.tags} @> ${`{${tags.map((t) => `"${t.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`}::text[]`);
  for (const m of metaValues) {
    const i = m.indexOf(':');
    const key = i < 0 ? m : m.slice(0, i);
    if (!META_KEY.test(key) || key.length > MAX_META_KEY_LENGTH) throw bad('/meta', `${JSON.stringify(m.slice(0, 80))}: expected \`key:value\` or \`key\` with a key of A-Z a-z 0-9 _ . -`);
    // One containment per pair, so two values of one key must both hold (in one object the
    // last one won: `meta=cam:c0&meta=cam:c1` listed every c1). A computed key: `constructor` is a key like any other.
    if (i < 0) conditions.push(sql`${files.customMeta} ? ${key}`);
    else conditions.push(sql`${files.customMeta} @> ${JSON.stringify({ [key]: m.slice(i + 1) })}::jsonb`);
  }
  return conditions.length ? and(...conditions) : undefined;
}
