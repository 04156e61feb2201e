/**
 * Reads the web app's build (`web/dist`, made by `vite build` in `npm install`'s prepare step)
 * into memory once: the shell and the hashed assets are small (well under a megabyte), and
 * text assets are gzipped here once instead of on every request.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { AppDeps } from '../../deps';

export const WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

export interface WebAsset {
  body: Uint8Array;
  gzip?: Uint8Array;
  type: string;
  etag: string;
}

export interface WebDist {
  shell: WebAsset | null;
  /** By path under `/assets/` (`index-3f2a.js`). */
  assets: Map<string, WebAsset>;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  json: 'application/json',
  map: 'application/json',
};
const COMPRESSIBLE = new Set(['js', 'css', 'html', 'svg', 'json', 'map']);

function asset(file: string): WebAsset {
  const body = new Uint8Array(readFileSync(file));
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  return {
    body,
    gzip: COMPRESSIBLE.has(ext) && body.byteLength > 1024 ? new Uint8Array(gzipSync(body, { level: 9 })) : undefined,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

export function loadWebDist(deps: AppDeps, warn: boolean, dir = WEB_DIST_DIR): WebDist {
  const assets = new Map<string, WebAsset>();
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    if (warn) deps.log.warn({ dir }, 'the web app is not built (run npm run build:web); / answers 503 until it is');
    return { shell: null, assets };
  }
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir, { recursive: true, withFileTypes: false }) as string[]) {
      const full = join(assetDir, name);
      if (existsSync(full) && !name.endsWith('/')) {
        try {
          assets.set(name.split('\\').join('/'), asset(full));
        } catch {
          // a directory entry of the recursive listing: nothing to serve
        }
      }
    }
  }
  return { shell: asset(index), assets };
}
