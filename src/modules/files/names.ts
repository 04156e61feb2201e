/**
 * Names, folders and ids (API.md §4): file names lose path separators, control characters and
 * `..`; folders become normalised absolute paths (`/a/b`, ≤ 16 levels of ≤ 255 bytes, ≤ 1024 bytes of UTF-8).
 */
import { validationError } from '../../errors';
import { randomString } from '../../lib/random';

export const MAX_FOLDER_DEPTH = 16;
/** Bytes of UTF-8, as S3 keys and file names on disk count; it also keeps a path inside the index's row limit (about 2.7 KB). */
export const MAX_FOLDER_BYTES = 1024;
const MAX_FOLDER_NAME_BYTES = 255;
/** A file name's characters (UTF-16 units): 255 of them fit any index row. */
const MAX_NAME_LENGTH = 255;
export const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** How the refusals say it. */
const BYTES_NOTE = 'of UTF-8: a letter a–z is one byte, most Chinese characters three, an emoji four';

/** A public file id: 12 base62 characters (≈ 71 bits), never sequential. */
export const newFileId = (): string => randomString(12);

/**
 * Invisible characters a name must not carry: C0/C1 controls, line/paragraph separators and
 * every format character (bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069,
 * marks U+200E/U+200F/U+061C, zero-width space, word joiner, BOM, tags…). A right-to-left
 * override makes `invoice\u202Efdp.exe` display as `invoiceexe.pdf`.
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\p{Cc}\p{Zl}\p{Zp}]|(?![\u200c\u200d])\p{Cf}/gu;
/**
 * Zero-width (non-)joiners are kept only between two non-ASCII characters, where emoji
 * sequences (👨‍👩‍👧) and Persian or Indic spelling need them; next to ASCII they only hide text.
 */
// eslint-disable-next-line no-control-regex
const LONE_JOINER = /(?<![^\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f])/g;
const stripInvisible = (s: string) => s.replace(INVISIBLE, '').replace(LONE_JOINER, '');
/** True when text holds control characters or invisible formatting (bidi overrides, zero-width characters). */
export const hasInvisible = (s: string): boolean => stripInvisible(s) !== s;

/** Makes an uploaded name safe to store and to put in a Content-Disposition header (every upload path and rename). */
export function sanitizeName(raw: string | undefined | null, fallback: string): string {
  let name = stripInvisible((raw ?? '').normalize('NFC'))
    // Keep only the last path segment a browser or tool may have sent.
    .split(/[/\\]/).pop()!
    .replace(/\.{2,}/g, '.')
    .trim()
    .replace(/^\.+/, '');
  if (name.length > MAX_NAME_LENGTH) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    // Cut between characters: half a surrogate pair (an emoji) is not text.
    let keep = MAX_NAME_LENGTH - ext.length;
    if (/[\uD800-\uDBFF]/.test(name[keep - 1] ?? '')) keep--;
    name = name.slice(0, keep) + ext;
  }
  return name || fallback;
}

/**
 * `a//b/` → `/a/b`; refuses `..`, control or bidi/zero-width characters, too deep or too long
 * (400). `naming`: the path names a folder to write to (an upload, a move, a new folder), which
 * must fit in 1024 bytes, each name in 255; reads take older paths as they are (up to 1024
 * characters, the rule they were made under).
 */
export function normalizeFolder(raw: string | undefined | null, field = 'folder', naming = false): string {
  if (raw === undefined || raw === null || raw.trim() === '') return '/';
  const parts = raw.normalize('NFC').split('/').map((p) => p.trim()).filter((p) => p !== '' && p !== '.');
  const bad = (message: string) => validationError(`Invalid ${field}: ${message}`, [{ path: `/${field}`, message }]);
  if (parts.some((p) => p === '..' || p.includes('\\') || stripInvisible(p) !== p)) {
    throw bad('must not contain `..`, backslashes, control characters or invisible formatting (bidi overrides, zero-width characters)');
  }
  if (parts.length > MAX_FOLDER_DEPTH) throw bad(`at most ${MAX_FOLDER_DEPTH} levels`);
  // As file systems do: a 300-letter folder name was accepted whole, and no page could show it.
  if (naming && parts.some((p) => utf8Bytes(p) > MAX_FOLDER_NAME_BYTES)) throw bad(`each folder name at most ${MAX_FOLDER_NAME_BYTES} bytes ${BYTES_NOTE}`);
  const path = `/${parts.join('/')}`;
  if (naming && utf8Bytes(path) > MAX_FOLDER_BYTES) throw bad(`at most ${MAX_FOLDER_BYTES} bytes in all, ${BYTES_NOTE}`);
  // A read takes a path made under the earlier rule (1024 characters) as it is.
  if (path.length > MAX_FOLDER_BYTES) throw bad(`at most ${MAX_FOLDER_BYTES} characters`);
  return path;
}

/** `/a/b/c` → [`/a`, `/a/b`, `/a/b/c`]; `/` → []. */
export function folderAncestors(folder: string): string[] {
  const parts = folder.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

export const parentOf = (folder: string): string => (folder === '/' ? '' : folder.slice(0, folder.lastIndexOf('/')) || '/');

/** The longest `X-File-Name` taken (the OpenAPI document's `maxLength`); names are then cut to 255 characters, extension kept. */
export const MAX_HEADER_NAME_LENGTH = 1024;

/**
 * A header's raw UTF-8 bytes, which arrive one character per byte (`é` as `Ã©`), read as UTF-8;
 * a value that is no UTF-8 is taken as sent (ISO-8859-1, HTTP's own reading).
 */
function rawUtf8(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  } catch {
    return value;
  }
}

/**
 * Decodes `X-File-Name`: RFC 5987 (`UTF-8''%E2%82%AC.png`), percent-encoding, or raw UTF-8 (many
 * scripted clients send it so: it was garbled beyond repair), else as sent; 400 over 1024 characters.
 */
export function decodeHeaderFileName(value: string | null): string | undefined {
  if (!value) return undefined;
  if (value.length > MAX_HEADER_NAME_LENGTH) {
    throw validationError(`X-File-Name: at most ${MAX_HEADER_NAME_LENGTH} characters.`, [{ path: '/X-File-Name', message: `at most ${MAX_HEADER_NAME_LENGTH} characters`, in: 'header' }]);
  }
  const ext = /^utf-8''(.*)$/i.exec(value.trim());
  const text = ext ? ext[1]! : rawUtf8(value);
  try {
    return decodeURIComponent(text);
  } catch {
    // Declared percent-encoded (RFC 8187) and not: refused, where it was stored as typed (`%ZZ.png`).
    // A plain name may hold a `%` of its own (`100%.png`).
    if (ext) throw validationError('X-File-Name: a UTF-8\'\' value is percent-encoded UTF-8, and this one is not.', [{ path: '/X-File-Name', message: 'not valid percent-encoded UTF-8', in: 'header' }]);
    return text;
  }
}
