/**
 * Every content type Pictor knows how to store and serve, with its file extensions and
 * category. The upload allow-list (`ALLOWED_TYPES`) selects from these; uploads use the first
 * extension for `url`s, delivery uses the category to decide inline vs attachment.
 */
export type Category = 'image' | 'video' | 'document' | 'text' | 'archive';

export interface ContentTypeInfo {
  mime: string;
  extensions: string[];
  category: Category;
  /** Can run script when opened in a browser: served with a sandbox CSP. */
  active?: boolean;
}

export const CONTENT_TYPES: readonly ContentTypeInfo[] = [
  { mime: 'image/png', extensions: ['png'], category: 'image' },
  { mime: 'image/jpeg', extensions: ['jpg', 'jpeg'], category: 'image' },
  { mime: 'image/gif', extensions: ['gif'], category: 'image' },
  { mime: 'image/webp', extensions: ['webp'], category: 'image' },
  { mime: 'image/avif', extensions: ['avif'], category: 'image' },
  { mime: 'image/heic', extensions: ['heic'], category: 'image' },
  { mime: 'image/heif', extensions: ['heif'], category: 'image' },
  { mime: 'image/tiff', extensions: ['tif', 'tiff'], category: 'image' },
  { mime: 'image/bmp', extensions: ['bmp'], category: 'image' },
  { mime: 'image/svg+xml', extensions: ['svg'], category: 'image', active: true },
  { mime: 'video/mp4', extensions: ['mp4'], category: 'video' },
  { mime: 'video/webm', extensions: ['webm'], category: 'video' },
  { mime: 'video/quicktime', extensions: ['mov'], category: 'video' },
  { mime: 'video/x-m4v', extensions: ['m4v'], category: 'video' },
  { mime: 'application/pdf', extensions: ['pdf'], category: 'document', active: true },
  { mime: 'text/plain', extensions: ['txt'], category: 'text' },
  { mime: 'application/zip', extensions: ['zip'], category: 'archive' },
];

const BY_MIME = new Map(CONTENT_TYPES.map((c) => [c.mime, c]));

export const contentTypeInfo = (mime: string): ContentTypeInfo | undefined => BY_MIME.get(mime);

/** True when `mime` matches an entry of the allow-list, exactly or by family (`image/*`). */
export function isAllowedType(mime: string, allowList: readonly string[]): boolean {
  const family = mime.split('/')[0];
  return allowList.some((a) => a === mime || a === '*/*' || (a.endsWith('/*') && a.slice(0, -2) === family));
}

/** The known types the allow-list admits. */
export const allowedContentTypes = (allowList: readonly string[]): ContentTypeInfo[] =>
  CONTENT_TYPES.filter((c) => isAllowedType(c.mime, allowList));
