/**
 * The embed page's HTML (`/v/:id`): the file itself (a responsive `<img srcset>`, a `<video>`,
 * or a card for other types), a download button, and the head that chat apps read when they
 * unfurl a link — OpenGraph, Twitter card and oEmbed discovery. No script at all; every value
 * that came from a user (the file name above all) goes through `escapeHtml`.
 */
import { escapeHtml } from '../../lib/form-page';
import { fitWidth, urlsOf, type EmbedFile, type PageUrls } from './service';

/** Widths offered in `srcset`; the original's own width is always the last candidate. */
const SRCSET_WIDTHS = [320, 640, 960, 1280, 1920, 2560];
/** Width of the OpenGraph / Twitter preview image. */
export const PREVIEW_WIDTH = 1200;

/** Image types the `/t` pipeline renders (SVG is shown as itself). */
export const isRaster = (f: EmbedFile) => f.kind === 'image' && f.contentType !== 'image/svg+xml';

// Follows the visitor's light or dark setting; everything centred on the picture, which fits the window with its caption.
const STYLE = ':root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1d2430;--muted:#5b6472;--well:#e4e7eb;--check:#cfd4da;--line:#cfd5dd}'
  + '@media (prefers-color-scheme:dark){:root{--bg:#111;--fg:#eee;--muted:#aaa;--well:#222;--check:#333;--line:#333}}'
  + 'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}'
  + 'main{max-width:960px;margin:0 auto;padding:1rem;text-align:center}h1{font-size:1.1rem;font-weight:600;margin:.5rem 0;overflow-wrap:anywhere}'
  + 'img,video{display:block;max-width:100%;max-height:calc(100vh - 13rem);width:auto;height:auto;margin:0 auto;background:var(--well)}'
  // Transparent parts of a picture show as a checkerboard: drawn on the page's colour, one picture looked different in light and dark.
  + 'img{background:repeating-conic-gradient(var(--check) 0 25%,var(--well) 0 50%) 0 0/16px 16px}'
  + '.meta{color:var(--muted);font-size:.9rem;margin:.5rem 0}.actions{margin:1rem 0}'
  + 'a.button{display:inline-block;padding:.5rem 1.2rem;border-radius:.3rem;background:#2d6cdf;color:#fff;text-decoration:none;font-weight:600}'
  + 'a.button:focus-visible{outline:3px solid #2d6cdf;outline-offset:2px}'
  + '.card{padding:2rem;border:1px solid var(--line);border-radius:.5rem}'
  + 'pre.text{text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;max-height:calc(100vh - 13rem);overflow:auto;margin:0;padding:1rem;'
  + 'border:1px solid var(--line);border-radius:.5rem;background:var(--well);font:14px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}';

/** Sizes as the web app writes them (web/src/api.ts), so a file reads the same size on both. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB']; // binary steps, binary names, as the web app
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const meta = (property: string, content: string | number) => `<meta property="${property}" content="${escapeHtml(String(content))}">`;
const named = (name: string, content: string | number) => `<meta name="${name}" content="${escapeHtml(String(content))}">`;

/** The picture or video an unfurl shows, with its size when known. */
function previewOf(f: EmbedFile, u: PageUrls): { url: string; width: number | null; height: number | null } | null {
  if (isRaster(f) || f.kind === 'video') {
    const size = fitWidth(f, PREVIEW_WIDTH);
    return { url: u.preview(PREVIEW_WIDTH), width: size?.width ?? null, height: size?.height ?? null };
  }
  if (f.kind === 'image') return { url: u.original, width: f.width, height: f.height };
  return null;
}

function head(f: EmbedFile, u: PageUrls): string {
  const description = [f.width && f.height ? `${f.width}×${f.height}` : null, f.contentType, formatBytes(f.size)].filter(Boolean).join(' · ');
  const out = [
    meta('og:site_name', 'Pictor'),
    meta('og:title', f.name),
    meta('og:description', description),
    ...(u.view ? [meta('og:url', u.view)] : []),
    meta('og:type', f.kind === 'video' ? 'video.other' : 'website'),
    named('description', description),
  ];
  const preview = previewOf(f, u);
  if (preview) {
    out.push(meta('og:image', preview.url), meta('og:image:alt', f.name));
    if (preview.url.startsWith('https:')) out.push(meta('og:image:secure_url', preview.url));
    if (preview.width && preview.height) out.push(meta('og:image:width', preview.width), meta('og:image:height', preview.height));
    if (isRaster(f) || f.kind === 'video') out.push(meta('og:image:type', 'image/jpeg'));
    out.push(named('twitter:card', 'summary_large_image'), named('twitter:image', preview.url), named('twitter:image:alt', f.name));
  } else {
    out.push(named('twitter:card', 'summary'));
  }
  out.push(named('twitter:title', f.name), named('twitter:description', description));
  if (f.kind === 'video') {
    out.push(meta('og:video', u.original), meta('og:video:type', f.contentType));
    if (u.original.startsWith('https:')) out.push(meta('og:video:secure_url', u.original));
    if (f.width && f.height) out.push(meta('og:video:width', f.width), meta('og:video:height', f.height));
  }
  if (u.oembed) out.push(`<link rel="alternate" type="application/json+oembed" href="${escapeHtml(u.oembed)}" title="${escapeHtml(f.name)}">`);
  if (u.view) out.push(`<link rel="canonical" href="${escapeHtml(u.view)}">`);
  else out.push(named('robots', 'noindex'));
  return out.join('');
}

function media(f: EmbedFile, u: PageUrls): string {
  const alt = escapeHtml(f.name);
  const dims = f.width && f.height ? ` width="${f.width}" height="${f.height}"` : '';
  if (isRaster(f)) {
    // Never wider than the original (c_limit does not upscale): candidates below its width, then its width.
    const widths = f.width ? [...SRCSET_WIDTHS.filter((w) => w < f.width!), Math.min(f.width, 4096)] : SRCSET_WIDTHS;
    const srcset = widths.map((w) => `${escapeHtml(u.sized(w))} ${w}w`).join(', ');
    const fallback = u.sized(Math.min(f.width ?? 960, 960));
    // The shown width: the column, or the picture's own width when smaller. `sizes` also sets the size the
    // browser draws a candidate at, so a fixed 960px blew a 120-px picture up eightfold.
    const shown = Math.min(f.width ?? 960, 960);
    return `<img src="${escapeHtml(fallback)}" srcset="${srcset}" sizes="(max-width: ${shown}px) 100vw, ${shown}px" alt="${alt}"${dims}>`;
  }
  if (f.kind === 'image') return `<img src="${escapeHtml(u.original)}" alt="${alt}"${dims}>`;
  if (f.kind === 'video') {
    return `<video controls preload="metadata" playsinline poster="${escapeHtml(u.preview(PREVIEW_WIDTH))}"${dims}>`
      + `<source src="${escapeHtml(u.original)}" type="${escapeHtml(f.contentType)}"></video>`;
  }
  // Shown as text, escaped: the page runs no script whatever the file holds (its CSP forbids it too).
  if (f.text !== undefined) return `<pre class="text">${escapeHtml(f.text)}</pre>`;
  // The name is the heading and the size is in the facts below: the card says what kind of file it is.
  return `<div class="card"><p>No preview for this type of file (${escapeHtml(f.contentType)}). Download it to open it.</p></div>`;
}

/**
 * The page of one file: its public URLs by default (`/v`), or the ones given (a share link's
 * signed URLs, with no address of its own to advertise). `note` is a line of text under the facts.
 */
export function renderEmbedPage(f: EmbedFile, u: PageUrls = urlsOf(f), note?: string): string {
  const facts = [f.width && f.height ? `${f.width} × ${f.height}` : null, f.durationS ? `${f.durationS.toFixed(1)} s` : null, formatBytes(f.size)]
    .filter(Boolean).join(' · ');
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
    + `<title>${escapeHtml(f.name)} · Pictor</title>${head(f, u)}<style>${STYLE}</style></head>`
    + `<body><main><h1>${escapeHtml(f.name)}</h1>${media(f, u)}`
    + `<p class="meta">${escapeHtml(facts)}</p>${note ? `<p class="meta">${escapeHtml(note)}</p>` : ''}`
    + `<p class="actions"><a class="button" href="${escapeHtml(u.download)}" download>Download</a></p>`
    + '</main></body></html>';
}

/** The page's CSP: no script; pictures, video and links only from this server and the owner's URL base. */
export function embedCsp(f: EmbedFile): string {
  let origin = '';
  try {
    origin = new URL(f.base).origin;
  } catch { /* an unusable base: 'self' only */ }
  const src = origin ? `'self' ${origin}` : "'self'";
  return [
    "default-src 'none'", `img-src ${src}`, `media-src ${src}`, "style-src 'unsafe-inline'",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}
