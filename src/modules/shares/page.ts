/**
 * A share link opened in a browser: the file's page, drawn as `/v` draws a public file, showing
 * the file through signed URLs. Opening the link is the view; the picture, a video's range
 * requests and Download go through the signed URLs and count none, so a video costs one view
 * however it is watched. The opening is remembered for an hour by a cookie scoped to that link
 * (it stands for the password too), so the reader's reloads cost no view and ask nothing again.
 */
import type { AppDeps } from '../../deps';
import { gone, notFound } from '../../errors';
import { readCookie, serializeCookie } from '../auth/cookies';
import { embedCsp, renderEmbedPage } from '../embed/page';
import { readPageFile, withTextPreview, type EmbedFile, type PageUrls } from '../embed/service';
import type { HeaderSink } from '../limits/plugin';
import { createSignedUrl } from '../transform/signed-url';
import { signPayload, verifySignature } from '../transform/sign';
import { countView } from './service';
import type { ShareLinkRow } from './table';

const HOUR_S = 3600;
export const OPENED_COOKIE = 'pictor_share';

/**
 * When the page's signed URLs expire: the start of the hour after next (one to two hours, long
 * enough to watch a film, and the same URLs within an hour so a second view finds the browser's
 * cache), never after the link itself.
 */
function signedUntil(share: ShareLinkRow, nowMs: number): number {
  const hourAfterNext = (Math.floor(nowMs / 1000 / HOUR_S) + 2) * HOUR_S;
  return share.expiresAt ? Math.min(hourAfterNext, Math.floor(share.expiresAt.getTime() / 1000)) : hourAfterNext;
}

function signedUrls(deps: AppDeps, f: EmbedFile, share: ShareLinkRow): PageUrls {
  // The second createSignedUrl counts from (rounded up): the URLs end at signedUntil, not after.
  const expires_in = Math.max(1, signedUntil(share, deps.clock.now()) - Math.ceil(deps.clock.now() / 1000));
  const file = { id: f.id, contentType: f.contentType, urlBase: f.base };
  const original = createSignedUrl(deps, deps.delivery, file, { original: true, expires_in });
  const render = (transformations: string) => createSignedUrl(deps, deps.delivery, file, { transformations, expires_in }).url;
  return {
    original: original.url,
    download: original.download_url ?? original.url,
    preview: (w) => render(`w_${w},c_limit,f_jpg`),
    sized: (w) => render(`w_${w},c_limit,f_auto`),
    view: null,
    oembed: null,
  };
}

/** What the reader should know: the views left after this one, and when the link ends (or the file, if sooner). */
function linkNote(row: ShareLinkRow, fileExpiresAt: Date | null): string | undefined {
  const notes: string[] = [];
  if (row.maxViews !== null) {
    const left = row.maxViews - row.views;
    notes.push(left <= 0 ? 'This was the last view this link allows: download the file now if you want to keep it.'
      : `This link can be opened ${left} more ${left === 1 ? 'time' : 'times'}.`);
  }
  // The server has no idea of the reader's zone (the page runs no script): UTC, said so.
  const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' at ')} UTC`;
  if (fileExpiresAt && (!row.expiresAt || fileExpiresAt < row.expiresAt)) notes.push(`The file is available until ${utc(fileExpiresAt)}.`);
  else if (row.expiresAt) notes.push(`The link expires ${utc(row.expiresAt)}.`);
  return notes.length ? notes.join(' ') : undefined;
}

/**
 * The link's page. `count`: this request is the opening (a view is counted, 410 past the last,
 * and the page sets the opened cookie); otherwise the browser opened it already (its cookie).
 * 404/410 without a view when the file itself is gone.
 */
export async function sharePage(deps: AppDeps, share: ShareLinkRow, set: HeaderSink, count: boolean): Promise<Response> {
  const f = await readPageFile(deps, share.fileId);
  if (!f || f.banned) throw notFound('Share link');
  if (f.expiresAt && f.expiresAt.getTime() <= deps.clock.now()) throw gone('This file has expired.');
  const row = count ? await countView(deps, share.token) : share;
  const shown = await withTextPreview(deps, f);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(set.headers)) if (typeof v === 'string') headers[k] = v;
  if (count) headers['set-cookie'] = openedCookie(deps, share);
  return new Response(renderEmbedPage(shown, signedUrls(deps, f, share), linkNote(row, f.expiresAt)), {
    headers: {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': embedCsp(f),
      // Each opening is a view and the page holds signed URLs: never stored, never indexed.
      'cache-control': 'private, no-store',
      'x-robots-tag': 'noindex',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // The page's address is the secret: it must not reach the image hosts or links as a Referer.
      'referrer-policy': 'no-referrer',
    },
  });
}

// A key of its own, so the cookie's proof can never pass for a signed URL's signature or the reverse.
const openedSecret = (secret: string) => `${secret}\u0000share-opened`;
const openedPayload = (token: string, exp: number) => `${token}/${exp}`;

/** The cookie saying this browser opened the link (and gave its password) for an hour, never past the link's expiry. */
export function openedCookie(deps: AppDeps, share: ShareLinkRow): string {
  const now = Math.floor(deps.clock.now() / 1000);
  const exp = share.expiresAt ? Math.min(now + HOUR_S, Math.floor(share.expiresAt.getTime() / 1000)) : now + HOUR_S;
  const sig = signPayload(openedSecret(deps.secrets.signingSecrets[0] as string), openedPayload(share.token, exp));
  return serializeCookie(OPENED_COOKIE, `${exp}.${sig}`, {
    maxAge: Math.max(1, exp - now), path: `/s/${share.token}`, httpOnly: true, secure: deps.config.publicUrl.startsWith('https://'),
  });
}

const NOTE_COOKIE = 'pictor_share_note';
/** What a browser's password POST came to, for the form or page its redirect leads to. */
export type PasswordNote = { wrong: number | null } | { locked: number };

/**
 * The note as a cookie of this link for a minute, or (null) its removal. A cookie, not the
 * redirect's query: anyone could send a link with `?locked=86400` showing a lockout that is not
 * there. Signed for this link, so a cookie set for a parent domain by a sibling site cannot
 * either.
 */
export function noteCookie(deps: AppDeps, share: ShareLinkRow, note: PasswordNote | null): string {
  const said = note === null ? '' : 'locked' in note ? `locked.${note.locked}` : `wrong.${note.wrong ?? ''}`;
  const value = note === null ? '' : `${said}.${signPayload(noteSecret(deps.secrets.signingSecrets[0] as string), notePayload(share.token, said))}`;
  return serializeCookie(NOTE_COOKIE, value, {
    maxAge: note === null ? 0 : 60, path: `/s/${share.token}`, httpOnly: true, secure: deps.config.publicUrl.startsWith('https://'),
  });
}

const noteSecret = (secret: string) => `${secret}\u0000share-note`;
const notePayload = (token: string, said: string) => `${token}/${said}`;

/** The note the request carries for this link, if any (and signed for it). */
export function readNote(deps: AppDeps, request: Request, share: ShareLinkRow): PasswordNote | null {
  const m = /^((wrong|locked)\.(\d{0,6}))\.([A-Za-z0-9_-]{1,64})$/.exec(readCookie(request, NOTE_COOKIE) ?? '');
  if (!m || !verifySignature(deps.secrets.signingSecrets.map(noteSecret), notePayload(share.token, m[1]!), m[4]!)) return null;
  if (m[2] === 'locked') return { locked: Math.min(Math.max(Number(m[3]) || 1, 1), 86_400) };
  return { wrong: m[3] === '' ? null : Number(m[3]) };
}

/** Whether the request carries a live opened cookie of this link. */
export function isOpened(deps: AppDeps, request: Request, share: ShareLinkRow): boolean {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{1,64})$/.exec(readCookie(request, OPENED_COOKIE) ?? '');
  if (!m) return false;
  const exp = Number(m[1]);
  if (exp * 1000 <= deps.clock.now()) return false;
  return verifySignature(deps.secrets.signingSecrets.map(openedSecret), openedPayload(share.token, exp), m[2]!);
}
