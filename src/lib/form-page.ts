/**
 * The small server-rendered pages that work without the web app or any script (password reset,
 * email confirmation, a protected share link's password form, a dead link's refusal): one look,
 * one strict header set.
 */
import { AppError } from '../errors';

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // Forms only: no script, no external resource, posts to this origin only, never framed.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  // These pages carry a token in their URL: it must not leak to another site through Referer.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#222}'
  + 'label{display:block;margin:.8rem 0 .2rem}input[type=password]{width:100%;padding:.45rem;box-sizing:border-box}'
  + 'button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#a00}';

/** A whole page: `title` is text (escaped), `body` is HTML the caller has escaped. */
export function formPage(title: string, body: string, status = 200, headers: Record<string, string> = {}): Response {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
    + `<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Pictor</title><style>${STYLE}</style></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

/** Whether a request is a browser's navigation (its `Accept` names `text/html`). */
export const acceptsHtml = (request: Request): boolean => (request.headers.get('accept') ?? '').includes('text/html');

/**
 * Whether `err` is a dead link's refusal (404, 410, 429) that this request, a browser's, should
 * read as a page (`errorPage`) rather than the JSON envelope scripts get.
 */
export const isPageRefusal = (err: unknown, request: Request): err is AppError =>
  err instanceof AppError && (err.status === 404 || err.status === 410 || err.status === 429) && acceptsHtml(request);

/** A refusal as a page, for a link a person opened: the error's status and message, `headers` and its own. */
export function errorPage(title: string, err: AppError, headers: Record<string, string> = {}): Response {
  return formPage(title, `<p class="error">${escapeHtml(err.message)}</p>`, err.status, { ...headers, ...(err.headers ?? {}) });
}
