/**
 * Content sniffing from the first bytes of a stream: `file-type` for binary formats, plus the
 * text formats it does not cover (SVG, HTML, XML, plain text). The result, never the name or
 * the declared header, decides what a file is.
 */
import { fileTypeFromBuffer } from 'file-type';

/** Bytes gathered before sniffing (file-type reads at most ~4 KiB). */
export const SNIFF_BYTES = 4100;

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Detects the MIME type of a file from its first bytes (`head`) — `application/octet-stream` when unknown. */
export async function sniffType(head: Uint8Array, complete: boolean): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (found) return found.mime;
  return sniffText(head, complete);
}

function sniffText(head: Uint8Array, complete: boolean): string {
  if (head.byteLength === 0) return 'application/x-empty';
  if (head.includes(0)) return 'application/octet-stream';
  let text: string;
  try {
    // A multi-byte character may be cut at the end of the head; retry without the last 3 bytes.
    text = decodeUtf8(head, complete);
  } catch {
    return 'application/octet-stream';
  }
  const start = text.replace(/^\uFEFF/, '').trimStart().slice(0, 1024).toLowerCase();
  if (/^<!doctype html|^<html|^<head|^<body|^<script|^<iframe|^<meta/.test(start)) return 'text/html';
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/.test(start)) return 'image/svg+xml';
  if (start.startsWith('<?xml')) return /<svg[\s>]/.test(start) ? 'image/svg+xml' : 'application/xml';
  return 'text/plain';
}

function decodeUtf8(bytes: Uint8Array, complete: boolean): string {
  try {
    return textDecoder.decode(bytes);
  } catch (err) {
    if (complete || bytes.byteLength < 4) throw err;
    return textDecoder.decode(bytes.subarray(0, bytes.byteLength - 3));
  }
}

const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/x-png': 'image/png',
  'image/x-ms-bmp': 'image/bmp', 'application/x-zip-compressed': 'application/zip',
  'video/x-quicktime': 'video/quicktime',
};
/** Types that share a container, so a declared one may be any of them. */
const SAME_FAMILY = [
  ['video/mp4', 'video/x-m4v', 'video/quicktime', 'audio/mp4'],
  ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence', 'image/avif'],
];

/** The declared type without parameters, or undefined when the client did not really declare one. */
export function declaredTypeOf(header: string | null | undefined): string | undefined {
  const mime = header?.split(';')[0]?.trim().toLowerCase();
  if (!mime || mime === 'application/octet-stream' || mime === 'binary/octet-stream') return undefined;
  return Object.hasOwn(ALIASES, mime) ? ALIASES[mime] : mime;
}

/** True when a declared type agrees with the sniffed one. */
export function typesAgree(declared: string, detected: string): boolean {
  if (declared === detected) return true;
  if (detected === 'text/plain' && declared.startsWith('text/') && declared !== 'text/html') return true;
  return SAME_FAMILY.some((f) => f.includes(declared) && f.includes(detected));
}
