/**
 * The small server-rendered pages that work without the web app or any script (password reset,
 * email confirmation, a protected share link's password form, a dead link's refusal): one look,
 * one strict header set.
 */
import { AppError } from '../errors';
import { waitWords } from './wait-words';

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // Forms only: no script, no external resource, posts to this origin only, never framed.
  'content-security-policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  // These pages carry a token in their URL: it must not leak to another site through Referer.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

// Follows the visitor's light or dark setting, like the file pages (embed/page.ts) it leads to.
const STYLE = ':root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1d2430;--muted:#5b6472;--line:#cfd5dd;--accent:#2d6cdf;--button:#2d6cdf;--error:#b42318}'
  + '@media (prefers-color-scheme:dark){:root{--bg:#111;--fg:#eee;--muted:#aaa;--line:#3a3f47;--accent:#4b86f0;--error:#ff8a80}}'
  + 'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}'
  + 'main{max-width:26rem;margin:0 auto;padding:3rem 1rem}.brand{display:flex;align-items:center;gap:.4rem;color:var(--muted);font-weight:600;margin-bottom:1.5rem}'
  + 'h1{font-size:1.4rem;margin:.2rem 0 1rem}p{margin:.6rem 0}label{display:block;margin:.8rem 0 .2rem}'
  + 'input[type=password]{width:100%;padding:.55rem .6rem;box-sizing:border-box;border:1px solid var(--line);border-radius:.35rem;background:transparent;color:inherit;font:inherit}'
  + 'button{margin-top:1rem;padding:.55rem 1.4rem;border:0;border-radius:.35rem;background:var(--button);color:#fff;font:inherit;font-weight:600;cursor:pointer}'
  + 'button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}.error{color:var(--error)}.muted{color:var(--muted)}';

/** The server's icon (webapp/icon.ts serves it at /favicon.svg), beside the name. */
const BRAND = '<div class="brand"><img src="/favicon.svg" alt="" width="22" height="22">Pictor</div>';

/** A whole page: `title` is text (escaped), `body` is HTML the caller has escaped. */
export function formPage(title: string, body: string, status = 200, headers: Record<string, string> = {}): Response {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
    + `<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Pictor</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">`
    + `<style>${STYLE}</style></head><body><main>${BRAND}<h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
  // The page's own headers win: a route passes its rate-limit headers, and with them came the
  // server-wide default CSP (frame-ancestors only), which replaced this page's strict one.
  return new Response(html, { status, headers: { ...headers, ...PAGE_HEADERS } });
}

/** Whether a request is a browser's navigation (its `Accept` names `text/html`). */
export const acceptsHtml = (request: Request): boolean => (request.headers.get('accept') ?? '').includes('text/html');

/**
 * Whether `err` is a dead link's refusal (404, 410, 429) that this request, a browser's, should
 * read as a page (`errorPage`) rather than the JSON envelope scripts get.
 */
export const isPageRefusal = (err: unknown, request: Request): err is AppError =>
  err instanceof AppError && (err.status === 404 || err.status === 410 || err.status === 429) && acceptsHtml(request);

/** A refusal as a page, for a link a person opened: the error's status and message, `headers` and its own; `more` is HTML the caller escaped. */
export function errorPage(title: string, err: AppError, headers: Record<string, string> = {}, more = ''): Response {
  const all = { ...headers, ...(err.headers ?? {}) };
  const wait = err.status === 429 ? waitText(Number(all['retry-after'] ?? all['Retry-After'])) : '';
  return formPage(title, `<p class="error">${escapeHtml(err.message)}</p>${wait}${more}`, err.status, all);
}

/** "Try again in about 4 minutes": the wait a 429 names only in its Retry-After header, for a person. */
function waitText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  return `<p>Try again in about ${waitWords(seconds)}.</p>`;
}
