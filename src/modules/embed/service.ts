/**
 * What the embed page and oEmbed know about a file (issue #25): a public, live file of an
 * account that is not banned and has embeds turned on, with the URL base its links are built
 * on (the owner's `public_url_base`, else `PUBLIC_URL`, as for every URL the API returns).
 * Anything else is 404 (existence never revealed), an expired file 410, as on `/i`.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { gone, notFound } from '../../errors';
import { contentTypeInfo } from '../reference/content-types';
import { files } from '../files/table';
import { users } from '../users/table';

export interface EmbedFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  durationS: number | null;
  kind: 'image' | 'video' | 'other';
  /** Extension of the `/i` URL (`png`), or '' when the type has none. */
  ext: string;
  base: string;
  createdAt: Date;
  /** A small text file's content, shown on the page (see `withTextPreview`). */
  text?: string;
}

/** Text files up to this size are shown on their page; larger ones get the card and Download. */
export const TEXT_PREVIEW_BYTES = 64 * 1024;

/** Public ids are base62 (files/ingest.ts); anything else cannot be a file. */
export const isPublicId = (id: string) => /^[A-Za-z0-9]{6,64}$/.test(id);

/** Images a browser or the `/t` pipeline can show as a picture (SVG is served sandboxed, shown as itself). */
function kindOf(contentType: string): EmbedFile['kind'] {
  const category = contentTypeInfo(contentType)?.category;
  if (category === 'image') return 'image';
  if (category === 'video') return 'video';
  return 'other';
}

/** A live file as the pages show it, with what decides who may see it; null when there is none. */
export async function readPageFile(deps: AppDeps, id: string): Promise<(EmbedFile & { isPublic: boolean; banned: boolean; embeds: boolean; expiresAt: Date | null; storageKey: string }) | null> {
  if (!isPublicId(id)) return null;
  const [row] = await deps.db
    .select({
      id: files.id, name: files.name, contentType: files.contentType, size: files.size, width: files.width, height: files.height,
      meta: files.meta, isPublic: files.isPublic, expiresAt: files.expiresAt, createdAt: files.createdAt, storageKey: files.storageKey,
      banned: users.isBanned, embeds: users.embedsEnabled, base: users.publicUrlBase,
    })
    .from(files)
    .innerJoin(users, eq(users.id, files.userId))
    .where(and(eq(files.id, id), isNull(files.deletedAt)))
    .limit(1);
  if (!row) return null;
  const duration = row.meta?.duration_s;
  return {
    id: row.id,
    name: row.name,
    contentType: row.contentType,
    size: row.size,
    width: row.width,
    height: row.height,
    durationS: typeof duration === 'number' ? duration : null,
    kind: kindOf(row.contentType),
    ext: contentTypeInfo(row.contentType)?.extensions[0] ?? '',
    base: row.base ?? deps.config.publicUrl,
    createdAt: row.createdAt,
    isPublic: row.isPublic,
    banned: row.banned,
    embeds: row.embeds,
    expiresAt: row.expiresAt,
    storageKey: row.storageKey,
  };
}

/** The file with its text, when it is a small UTF-8 text file (anything else, or bytes that are not UTF-8: as it was). */
export async function withTextPreview<F extends EmbedFile & { storageKey: string }>(deps: AppDeps, f: F): Promise<F> {
  if (!f.contentType.startsWith('text/') || f.size > TEXT_PREVIEW_BYTES) return f;
  const bytes = await deps.storage.read(f.storageKey, TEXT_PREVIEW_BYTES);
  if (!bytes) return f;
  try {
    return { ...f, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return f;
  }
}

export async function getEmbedFile(deps: AppDeps, id: string): Promise<EmbedFile & { storageKey: string }> {
  const f = await readPageFile(deps, id);
  if (!f || !f.isPublic || f.banned || !f.embeds) throw notFound('File');
  if (f.expiresAt && f.expiresAt.getTime() <= deps.clock.now()) throw gone('This file has expired.');
  return f;
}

/** Width and height of a `c_limit` resize into a `max`-wide box (never upscaled), or null when unknown. */
export function fitWidth(f: Pick<EmbedFile, 'width' | 'height'>, max: number, maxHeight = Infinity): { width: number; height: number } | null {
  if (!f.width || !f.height) return null;
  const scale = Math.min(1, max / f.width, maxHeight / f.height);
  return { width: Math.max(1, Math.round(f.width * scale)), height: Math.max(1, Math.round(f.height * scale)) };
}

/** The addresses a page shows a file through. */
export interface PageUrls {
  original: string;
  download: string;
  /** A JPEG no wider than `w` (a video's poster frame for a video): what chat apps and oEmbed show. */
  preview: (w: number) => string;
  /** For the page's `srcset`: the browser's best format (`f_auto`) at width `w`. */
  sized: (w: number) => string;
  /** The page's own address and its oEmbed, for a page meant to be found (`/v`); null on a share link's page. */
  view: string | null;
  oembed: string | null;
}

/** The public URLs of one file, all on the owner's base. */
export function urlsOf(f: EmbedFile): PageUrls & { view: string; oembed: string } {
  return {
    view: `${f.base}/v/${f.id}`,
    original: `${f.base}/i/${f.id}${f.ext ? `.${f.ext}` : ''}`,
    download: `${f.base}/d/${f.id}`,
    preview: (w: number) => `${f.base}/t/w_${w},c_limit,f_jpg/${f.id}`,
    sized: (w: number) => `${f.base}/t/w_${w},c_limit,f_auto/${f.id}`,
    oembed: `${f.base}/api/oembed?url=${encodeURIComponent(`${f.base}/v/${f.id}`)}&format=json`,
  };
}
