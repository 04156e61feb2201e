/**
 * Share links (issue #25). The owner manages them under `/api/files/:id/shares`; anyone with a
 * link opens `/s/<token>`. A browser (its `Accept` names `text/html`) gets pages: a protected
 * link's password form, a limited link's Open button (so a chat app's link preview uses no
 * view), then the file's page (page.ts). The opening is the view and sets a cookie, scoped to
 * the link for an hour, under which reloads show the page again for free. The forms POST back
 * and are answered with 303s, so neither a reload nor Back resends them. Anything else gets
 * the file itself, each delivery a view; scripts send the password in `X-Share-Password` (or
 * POST it and get the file). Every password attempt counts in the `share_password` bucket (per
 * link and client IP), so guessing stops at its limit (429).
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { AppError, errorResponses, notFound, gone, unauthorized, validationError } from '../../errors';
import { acceptFormBody, answerErrorsAsPage, noContent } from '../../http';
import { binaryResponse, errorResponsesOrPage } from '../../openapi-contract';
import { verifyPassword } from '../../platform/password';
import { authGuard } from '../auth/guard';
import { publicBytesOf, serveStoredFile } from '../delivery/routes';
import { ensurePublicCopy } from '../files/public-copy';
import { clientLimitKeyOf, enforceIpLimit, enforceLimit, type HeaderSink } from '../limits/plugin';
import { acceptsHtml, errorPage, escapeHtml, formPage, isPageRefusal } from '../../lib/form-page';
import { isOpened, noteCookie, openedCookie, readNote, sharePage } from './page';
import { isLinkPreview } from './previews';
import { countView, createShare, findShare, getShare, listShares, refuseIfSpent, revokeShare, shareStatus } from './service';
import type { ShareLinkRow } from './table';

const ShareSchema = t.Object({
  id: t.String({ description: 'Id of the link (for revoking); not the secret token.' }),
  file_id: t.String(),
  url: t.String({ description: 'The link to hand out: `/s/<token>` on your URL base. Whoever has it (and the password, if set) gets the file.' }),
  has_password: t.Boolean(),
  max_views: t.Nullable(t.Integer()),
  views: t.Integer({ description: 'Deliveries so far (a video player\'s range requests each count).' }),
  status: t.Union([t.Literal('active'), t.Literal('expired'), t.Literal('used_up')]),
  expires_at: t.Nullable(t.String({ format: 'date-time', description: 'When the link ends: its own expiry, or its file\'s when that comes first; null = never.' })),
  last_viewed_at: t.Nullable(t.String({ format: 'date-time' })),
  created_at: t.String({ format: 'date-time' }),
}, { title: 'ShareLink' });

const ShareList = t.Object({ results: t.Array(ShareSchema), count: t.Integer(), next_cursor: t.Null() });

/** The longest password a link takes, in the body, the form or X-Share-Password. */
const MAX_PASSWORD = 256;

const ShareBody = t.Object({
  password: t.Optional(t.String({ minLength: 1, maxLength: MAX_PASSWORD, description: 'Asked before the file is shown; stored as an argon2id hash.' })),
  max_views: t.Optional(t.Integer({ minimum: 1, maximum: 1_000_000, description: 'Deliveries allowed; the next one answers 410.' })),
  expires_in: t.Optional(t.Integer({ minimum: 1, maximum: 10 * 365 * 86400, description: 'Seconds until the link expires (410).' })),
  expires_at: t.Optional(t.String({ format: 'date-time', description: 'Or an ISO-8601 time (future, ≤ 100 years ahead).' })),
}, { additionalProperties: false, examples: [{ password: 'correct horse', max_views: 5, expires_in: 604800 }] });

const FileParams = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) });
const ShareParams = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }), share_id: t.String({ minLength: 1, maxLength: 64 }) });
const TokenParams = t.Object({ token: t.String({ maxLength: 64, description: 'The link\'s token.' }) });


function passwordForm(token: string, error?: string): string {
  // The error is tied to the field (the autofocused field is what a screen reader reads on
  // arrival: it said "Password, edit" and nothing of the refusal) and is an alert as well.
  return (error ? `<p class="error" id="pw-error" role="alert">${escapeHtml(error)}</p>` : '')
    + '<p>This file is protected by a password.</p>'
    + `<form method="post" action="/s/${escapeHtml(token)}">`
    + `<label for="pw">Password</label><input id="pw" type="password" name="password" maxlength="${MAX_PASSWORD}" autocomplete="off" autofocus required${error ? ' aria-invalid="true" aria-describedby="pw-error"' : ''}>`
    + '<button type="submit">Open</button></form>';
}

/** The shared file's bytes for anyone (a photo's GPS blanked), or 404/410 as on `/i`. */
async function sharedFile(deps: AppDeps, share: ShareLinkRow) {
  const f = await deps.delivery.lookup.get(share.fileId);
  if (!f || f.ownerBanned) throw notFound('Share link');
  if (f.expiresAt !== null && f.expiresAt <= deps.clock.now()) throw gone('This file has expired.');
  return publicBytesOf(await ensurePublicCopy(deps, f));
}

/** Counts the attempt (429 past the limit), then checks the password. */
async function passwordMatches(deps: AppDeps, request: Request, set: HeaderSink, share: ShareLinkRow, password: string): Promise<boolean> {
  return (await checkPassword(deps, request, set, share, password)).ok;
}

/** The same, with the attempts this client has left on this link (null: no limit known). */
async function checkPassword(deps: AppDeps, request: Request, set: HeaderSink, share: ShareLinkRow, password: string): Promise<{ ok: boolean; left: number | null }> {
  const decision = await enforceLimit(deps, set, 'share_password', `${clientLimitKeyOf(deps, request)}|${share.token}`);
  return { ok: await verifyPassword(password, share.passwordHash!), left: decision?.remaining ?? null };
}

/** `X-Share-Password`, held to the body field's length (a longer one went to argon2 as an attempt). */
function passwordHeader(request: Request): string | null {
  const sent = request.headers.get('x-share-password');
  if (sent !== null && sent.length > MAX_PASSWORD) {
    throw validationError(`X-Share-Password is at most ${MAX_PASSWORD} characters, as a link's password is.`, [{ in: 'header', path: '/x-share-password', message: `longer than ${MAX_PASSWORD} characters` }]);
  }
  return sent;
}

/** "Wrong password." and, when few remain, how many attempts are left before a pause. */
function wrongPasswordText(left: number | null): string {
  if (left === null || left > 3) return 'Wrong password.';
  if (left === 0) return 'Wrong password. That was the last attempt for now: the next one waits.';
  return `Wrong password. ${left} more ${left === 1 ? 'attempt' : 'attempts'} before a pause.`;
}

/**
 * Answers the file: inline, never cached. A view is an answer that sends the file's bytes (200
 * or 206): a HEAD, a 304 and a 416 cost none. serveStoredFile decides 304/416 on a HEAD of the
 * same request first (headers only, no bytes read), then the view is counted by countView's one
 * conditional update (so racing GETs never exceed `max_views`), and only then are bytes sent.
 */
async function deliver(deps: AppDeps, request: Request, share: ShareLinkRow, set: HeaderSink): Promise<Response> {
  const f = await sharedFile(deps, share); // before counting: a link to a deleted file costs no view
  const o = { attachment: false, cacheControl: 'private, no-store' };
  let res: Response;
  // HEAD (answered by this GET route) sends no bytes: link checkers and unfurlers probing with it cost no view.
  if (request.method === 'HEAD') res = await serveStoredFile(deps, request, f, o);
  else {
    // The same decision a GET gets (304, or 416 thrown), without reading the bytes.
    const probe = await serveStoredFile(deps, new Request(request.url, { method: 'HEAD', headers: request.headers }), f, o);
    if (probe.status === 304) res = probe;
    else {
      await countView(deps, share.token);
      res = await serveStoredFile(deps, request, f, o);
    }
  }
  for (const [k, v] of Object.entries(set.headers)) if (typeof v === 'string' && !res.headers.has(k)) res.headers.set(k, v);
  res.headers.set('referrer-policy', 'no-referrer');
  return res;
}

const fileBody = {
  200: binaryResponse('The shared file (counted as a view), or for a browser the file\'s page (HTML; the view).', ['*/*', 'text/html']),
  206: binaryResponse('A byte range (counted as a view: it sends bytes).', ['*/*']),
  304: binaryResponse('Not modified (`If-None-Match` / `If-Modified-Since`): no bytes, no view.', []),
};

export function shareRoutes(deps: AppDeps) {
  acceptFormBody(deps, '/s/:token');
  answerErrorsAsPage(deps, '/s/:token', 'Link not opened', true); // a browser reads every refusal as a page
  const html = (d: string) => binaryResponse(d, ['text/html']);
  const api = new Elysia({ name: 'pictor.shares.routes', prefix: '/api/files', detail: { tags: ['sharing'] } })
    .use(authGuard(deps))
    .post('/:id/shares', async ({ principal, params, body, set }) => {
      set.status = 201;
      return createShare(deps, principal.userId, params.id, body);
    }, {
      auth: 'files:write',
      params: FileParams,
      body: ShareBody,
      response: { 201: ShareSchema, ...errorResponses(400, 401, 403, 404, 409, 410) },
      detail: {
        summary: 'Create a share link',
        description: 'A link `/s/<token>` to one of your files, public or private, with an optional `password` (argon2id), `max_views` '
          + '(the delivery after the last allowed answers 410) and expiry (`expires_in` seconds or `expires_at`). At most 100 links per file (409).',
      },
    })
    .get('/:id/shares', ({ principal, params }) => listShares(deps, principal.userId, params.id), {
      auth: 'files:read',
      params: FileParams,
      response: { 200: ShareList, ...errorResponses(401, 403, 404, 410) },
      detail: { summary: 'List a file\'s share links', description: 'Newest first, with their view counters and status; never the passwords.' },
    })
    .delete('/:id/shares/:share_id', async ({ principal, params }) => {
      await revokeShare(deps, principal.userId, params.id, params.share_id);
      return noContent();
    }, {
      auth: 'files:write',
      params: ShareParams,
      response: { 204: t.Void(), ...errorResponses(401, 403, 404) },
      detail: { summary: 'Revoke a share link', description: 'The link answers 404 from then on, on every instance.' },
    });

  const open = new Elysia({ name: 'pictor.shares.public', detail: { tags: ['sharing'] } })
    .get('/s/:token', async ({ params, request, set }) => {
      try {
        await enforceIpLimit(deps, request, set, 'public');
        const share = await findShare(deps, params.token);
        // HEAD costs no view and has no page: it answers the file's headers.
        if (request.method === 'GET' && (acceptsHtml(request) || isLinkPreview(request))) return await browserGet(deps, request, share, set);
        refuseIfSpent(deps, share);
        if (share.passwordHash) {
          const sent = passwordHeader(request);
          if (sent !== null) {
            if (!(await passwordMatches(deps, request, set, share, sent))) throw unauthorized('Wrong password for this share link.');
          } else if (!isOpened(deps, request, share)) {
            await sharedFile(deps, share); // a deleted file's link is 404 before anyone types a password
            // Not a browser (those got the page above): a script is told what to send, in the envelope (it got the HTML form, 200).
            throw unauthorized('This share link needs its password: send it in X-Share-Password, or POST it (form or JSON field password).');
          }
        }
        return await deliver(deps, request, share, set);
      } catch (err) {
        // A person who opens a dead link in a browser reads a page, not the JSON envelope scripts get.
        if (!isPageRefusal(err, request)) throw err;
        return linkErrorPage(err, stringHeaders(set));
      }
    }, {
      params: TokenParams,
      response: { ...fileBody, ...errorResponses(401, 416), ...errorResponsesOrPage(400, 404, 410, 429) },
      detail: {
        summary: 'Open a share link',
        description: 'A browser (`Accept` naming `text/html`) gets pages, and so does a chat app\'s link preview (Slackbot, Discordbot, WhatsApp, Twitterbot, '
          + 'facebookexternalhit… by `User-Agent`), whose fetch is never the view. A link without a password or view limit shows the file\'s page at once: the picture, video or a card, '
          + 'with a Download button, shown through signed URLs valid one to two hours (never past the link\'s expiry); that opening is the view, and the picture, the video\'s ranges '
          + 'and Download count none. A password link first shows a form, a link with `max_views` an Open button (so link previews in chat apps use no view); '
          + 'either POSTs to this URL. The opening sets a cookie (`pictor_share`, this link only, one hour) under which reloads show the page again without a view or a password. '
          + 'Anything else gets the file itself (inline; each delivery is a view: an answer that sends the file\'s bytes, 200 or 206, so a video player\'s range requests each count); '
          + 'HEAD, 304 (a cached copy still current) and 416 (a range past the end) send none and cost no view. '
          + 'Scripts send the password in `X-Share-Password` (missing or wrong → 401 in the error envelope). Password attempts count in the `share_password` bucket (429 past it). '
          + 'Unknown or revoked link → 404; expired or out of views (`max_views`) → 410.',
        'x-headers': [{ name: 'X-Share-Password', in: 'header', required: false, schema: { type: 'string', maxLength: MAX_PASSWORD }, description: 'The link\'s password, for scripts.' }],
      },
    })
    .post('/s/:token', async ({ params, request, body, set }) => {
      const browser = acceptsHtml(request);
      try {
        await enforceIpLimit(deps, request, set, 'public');
        const share = await getShare(deps, params.token);
        if (share.passwordHash) {
          // The header as its GET takes it; sending neither is no attempt.
          const password = body.password ?? passwordHeader(request) ?? undefined;
          if (password === undefined && !browser) {
            await sharedFile(deps, share); // a deleted file's link is 404 first, as by GET
            throw unauthorized('This share link needs its password: send it in X-Share-Password, or POST it (form or JSON field password).');
          }
          const checked = await checkPassword(deps, request, set, share, password ?? '').catch((err: unknown) => {
            // Locked out: a browser goes to the page saying so by GET too (a reload must not count another attempt).
            if (browser && err instanceof AppError && err.status === 429) return { locked: Math.ceil(Number(err.headers?.['Retry-After'] ?? 60)) };
            throw err;
          });
          if ('locked' in checked) return seeOther(`/s/${share.token}`, { 'set-cookie': noteCookie(deps, share, checked) });
          // A browser goes back to the form by GET, so its Back button never offers to resend a password.
          if (!checked.ok && browser) return seeOther(`/s/${share.token}`, { ...stringHeaders(set), 'set-cookie': noteCookie(deps, share, { wrong: checked.left }) });
          // A script gets the envelope, as its GET with X-Share-Password does (it got the HTML form).
          if (!checked.ok) throw unauthorized('Wrong password for this share link.');
        }
        if (!browser) return await deliver(deps, request, share, set);
        // The opening: a view, remembered by the cookie; the page follows by GET, so a reload shows it again.
        await sharedFile(deps, share);
        await countView(deps, share.token);
        return seeOther(`/s/${share.token}`, { ...stringHeaders(set), 'set-cookie': openedCookie(deps, share) });
      } catch (err) {
        // A person reads a page; a script the JSON envelope (a dead link and a wrong password were pages for both).
        if (!isPageRefusal(err, request)) throw err;
        return linkErrorPage(err, {});
      }
    }, {
      params: TokenParams,
      body: t.Object({ password: t.Optional(t.String({ maxLength: MAX_PASSWORD })) }, { additionalProperties: false }),
      response: {
        200: binaryResponse('The shared file (counted as a view).', ['*/*']),
        303: binaryResponse('A browser (`Accept` naming `text/html`): to `GET /s/{token}`. After the right password or Open, the opening is counted as the view and '
          + 'the `pictor_share` cookie (this link only, one hour) set; after a wrong password, back to the form, which says so.', []),
        ...errorResponses(401),
        ...errorResponsesOrPage(400, 404, 410, 429),
      },
      detail: {
        'x-headers': [{ name: 'X-Share-Password', in: 'header', required: false, schema: { type: 'string', maxLength: MAX_PASSWORD }, description: 'The link\'s password, for scripts (a body `password` wins).' }],
        summary: 'Open a share link from its page',
        description: 'Form-encoded (or JSON) `password`, or the `X-Share-Password` header, required for a protected link (a script that sends neither gets 401, no attempt counted); none for the Open button of a link with `max_views`. '
          + 'A browser\'s form is sent on (303); a script gets the file itself (a view). A wrong password, a dead link or too many attempts: an HTML page naming the problem for a browser, the JSON envelope for a script.',
      },
    });
  return new Elysia({ name: 'pictor.shares' }).use(api).use(open);
}

/**
 * A page of a share link (the password form, the Open button, a refusal) with the headers the
 * file's page has (page.ts): private, never stored, never indexed. formPage's own `no-store`
 * serves the other small pages (password reset…); the link's pages say `private` and `noindex` too.
 */
const LINK_CACHE_CONTROL = 'private, no-store';
const linkPage = (res: Response): Response => {
  res.headers.set('cache-control', LINK_CACHE_CONTROL);
  res.headers.set('x-robots-tag', 'noindex');
  return res;
};

/** A share-link refusal as a page. */
const linkErrorPage = (err: AppError, headers: Record<string, string>): Response => linkPage(refusalPage(err, headers));
const refusalPage = (err: AppError, headers: Record<string, string>): Response => {
  if (err.status === 410) return errorPage('Link no longer available', err, headers);
  // A revoked link and a mistyped one look alike here (revoking deletes the link): the page names both.
  if (err.status !== 429) {
    return errorPage('Link not found', err, headers, '<p>Check that you have the whole address: a share link ends in 22 letters and digits. '
      + 'Its owner may also have revoked it, or deleted the file.</p>');
  }
  // "Rate limit exceeded." is the API's word for scripts; a person reads what was counted.
  const bucket = (err.details as { bucket?: string } | undefined)?.bucket;
  const message = bucket === 'share_password' ? 'Too many password attempts on this link from your network.' : 'Too many requests from your network.';
  return errorPage('Too many attempts', new AppError(err.code, 429, message, err.details, err.headers), headers);
};

const stringHeaders = (set: HeaderSink) =>
  Object.fromEntries(Object.entries(set.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));

const seeOther = (location: string, headers: Record<string, string>): Response =>
  new Response(null, { status: 303, headers: { ...headers, location, 'cache-control': LINK_CACHE_CONTROL, 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' } });

/** The Open button of a link with a view limit: a preview bot fetching the link uses no view. */
function openForm(share: ShareLinkRow): string {
  const left = share.maxViews! - share.views;
  return `<p>Someone shared a file with you. This link can be opened ${left} more ${left === 1 ? 'time' : 'times'}; opening it here uses one `
    + '(you can reload it for an hour after).</p>'
    + `<form method="post" action="/s/${escapeHtml(share.token)}"><button type="submit">Open</button></form>`;
}

/**
 * What a browser's GET gets: the page once this browser opened the link (its cookie: no view,
 * even past the last one), else the password form, the Open button of a limited link, or —
 * for a link with neither — the page at once, that request being the view.
 */
async function browserGet(deps: AppDeps, request: Request, share: ShareLinkRow, set: HeaderSink): Promise<Response> {
  if (isOpened(deps, request, share)) {
    if (shareStatus(share, deps.clock.now()) === 'expired') refuseIfSpent(deps, share);
    return sharePage(deps, share, set, false);
  }
  refuseIfSpent(deps, share);
  if (share.passwordHash) {
    await sharedFile(deps, share); // a deleted file's link is 404 before anyone types a password
    // What the form's POST said, carried to this GET by a cookie (said once): a wrong password (and the attempts left), or a lockout.
    const note = readNote(deps, request, share);
    const headers = note ? { ...stringHeaders(set), 'set-cookie': noteCookie(deps, share, null) } : stringHeaders(set);
    if (note && 'locked' in note) {
      return linkPage(errorPage('Too many attempts', new AppError('RATE_LIMITED', 429, 'Too many password attempts on this link from your network.', undefined, { 'Retry-After': String(note.locked) }),
        headers, `<p><a href="/s/${escapeHtml(share.token)}">Try again</a> once the wait is over.</p>`));
    }
    return linkPage(formPage('Protected file', passwordForm(share.token, note ? wrongPasswordText(note.wrong) : undefined), note ? 401 : 200, headers));
  }
  if (share.maxViews !== null) {
    await sharedFile(deps, share);
    return linkPage(formPage('Open shared file', openForm(share), 200, stringHeaders(set)));
  }
  return sharePage(deps, share, set, !isLinkPreview(request)); // a chat app's preview is not the view
}
