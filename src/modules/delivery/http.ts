/**
 * HTTP semantics of delivering stored bytes (API.md §5), independent of where they come from:
 * conditional requests (ETag = sha256, Last-Modified), single byte ranges, safe headers per
 * content type. Exported for the transformation routes, which serve originals the same way.
 */
import { contentTypeInfo } from '../reference/content-types';

export { isNotModified } from '../../lib/http-cache';

export const SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Parses a `Range` header against a size. Only one range is honoured; several (or a malformed
 * header) fall back to the full body, as RFC 9110 allows.
 */
export function parseRange(header: string | null, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  // The unit's name is case-insensitive (RFC 9110 §14.1), as Bun's own range handling reads it.
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    // Past the end, whatever the last position says: Bun answers such a range itself on a
    // file body (an empty 416 typed as the file) when Pictor would have sent the whole file.
    if (start >= size) return { kind: 'unsatisfiable' };
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size || size === 0) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

/** Content headers that keep a browser from running what it should not. */
export function safetyHeaders(contentType: string, name: string, forceAttachment: boolean): Record<string, string> {
  const info = contentTypeInfo(contentType);
  const category = info?.category;
  const headers: Record<string, string> = {
    'content-type': contentType.startsWith('text/') ? `${contentType}; charset=utf-8` : contentType,
    'x-content-type-options': 'nosniff',
  };
  // SVG, PDF and anything unknown can run script when opened directly.
  if (!info || info.active) headers['content-security-policy'] = SANDBOX_CSP;
  // Images (SVG too, sandboxed), video and plain text display inline; everything else downloads.
  const inline = !forceAttachment && (category === 'image' || category === 'video' || category === 'text');
  headers['content-disposition'] = `${inline ? 'inline' : 'attachment'}; ${dispositionFilename(name)}`;
  return headers;
}

/** `filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266). */
export function dispositionFilename(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
