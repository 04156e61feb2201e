/**
 * The app's icon: `/favicon.svg` for pages that link it (the web app), and `/favicon.ico` as a
 * 48-px PNG for every page that does not — browsers ask for that path by themselves on `/docs`,
 * the share, embed and account pages, and an image opened on its own. Made from this source
 * rather than the web build, so it answers even before the app is built.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';

const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
  + '<rect width="64" height="64" rx="14" fill="#0b5cad"/>'
  + '<circle cx="44" cy="20" r="7" fill="#ffd166"/>'
  + '<path d="M8 52 27 27l10 13 6-7 13 19z" fill="#fff"/>'
  + '</svg>';

export interface IconFile {
  body: Uint8Array;
  type: string;
  etag: string;
}

const etagOf = (body: Uint8Array) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

const svgBody = new TextEncoder().encode(ICON_SVG);
export const svgIcon: IconFile = { body: svgBody, type: 'image/svg+xml', etag: etagOf(svgBody) };

let png: Promise<IconFile> | undefined;
/** The PNG, rendered once on first request (a few milliseconds) and kept. */
export function pngIcon(): Promise<IconFile> {
  png ??= sharp(svgBody, { density: 72 * 48 / 64 }).resize(48, 48).png().toBuffer().then((b) => {
    const body = new Uint8Array(b);
    return { body, type: 'image/png', etag: etagOf(body) };
  }, (err: unknown) => {
    png = undefined; // the next request tries again
    throw err;
  });
  return png;
}
