/**
 * The pages the mailed links open (`/reset-password?token=…`, `/verify-email?token=…`): small
 * server-rendered HTML forms that POST back to the same path, which does the action and shows
 * the result. No script at all (the CSP forbids it), so they work in any browser and mail
 * client; a web app can take the links over later with `redirect_to`. A GET never consumes a
 * token: mail scanners prefetch links, so the action waits for the form's POST.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { AppError } from '../../errors';
import { escapeHtml, formPage } from '../../lib/form-page';
import { acceptFormBody, answerErrorsAsPage } from '../../http';
import { binaryResponse } from '../../openapi-contract';
import { enforceIpLimit } from '../limits/plugin';
import { MAX_PASSWORD, strict } from './model';
import { resetPassword, verifyEmail } from './service';


const paragraph = (text: string, cls?: string) => `<p${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</p>`;

function resetForm(token: string, error?: string): string {
  return (error ? paragraph(error, 'error') : '')
    + `<form method="post" action="/reset-password"><input type="hidden" name="token" value="${escapeHtml(token)}">`
    + `<label for="p1">New password (at least 8 characters)</label><input id="p1" type="password" name="new_password" minlength="8" maxlength="${MAX_PASSWORD}" autocomplete="new-password" required>`
    + `<label for="p2">Repeat it</label><input id="p2" type="password" name="confirm_password" minlength="8" maxlength="${MAX_PASSWORD}" autocomplete="new-password" required>`
    + '<button type="submit">Set the new password</button></form>';
}

function verifyForm(token: string): string {
  return paragraph('Confirm that this email address belongs to your Pictor account.')
    + `<form method="post" action="/verify-email"><input type="hidden" name="token" value="${escapeHtml(token)}">`
    + '<button type="submit">Confirm my email address</button></form>';
}

const missingToken = () => formPage('Link incomplete', paragraph('This link has no token. Open the link from the email exactly as it was sent.'), 400);

/** An AppError (bad token, rate limit) as a page with its status and headers; anything else is rethrown. */
function failure(err: unknown, title: string, retry?: string): Response {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return formPage(title, paragraph(err.message, 'error') + (retry ?? ''), err.status, err.headers ?? {});
}

const TokenQuery = t.Object({ token: t.Optional(t.String({ maxLength: 256, description: 'The token from the mailed link.' })) });
// text/html, as sent (a `t.String` is documented as text/plain).
const HTML = { 200: binaryResponse('HTML page', ['text/html']), 400: binaryResponse('HTML page naming the problem', ['text/html']) };
/** A form's answers: its pages, and the limiter's (the `sensitive` bucket per IP, with `Retry-After`). */
const FORM_HTML = { ...HTML, 429: binaryResponse('HTML page: too many attempts from this address; see `Retry-After`', ['text/html']) };

export function authPages(deps: AppDeps) {
  // The forms post URL-encoded bodies; every other route keeps answering those 415.
  acceptFormBody(deps, '/reset-password');
  acceptFormBody(deps, '/verify-email');
  // Pages only: a refused form (a field too many, a body that is not a form) is a page too.
  answerErrorsAsPage(deps, '/reset-password', 'Password not changed');
  answerErrorsAsPage(deps, '/verify-email', 'Email address not confirmed');
  return new Elysia({ name: 'pictor.auth.pages', detail: { tags: ['auth'] } })
    .get('/reset-password', ({ query }) => (query.token ? formPage('Choose a new password', resetForm(query.token)) : missingToken()), {
      query: TokenQuery,
      response: HTML,
      detail: { summary: 'Password-reset page (the mailed link)', description: 'An HTML form that POSTs the new password back to this path.' },
    })
    .post(
      '/reset-password',
      async ({ body, request, set }) => {
        if (body.new_password.length < 8) return formPage('Choose a new password', resetForm(body.token, 'The password needs at least 8 characters.'), 400);
        if (body.confirm_password !== undefined && body.confirm_password !== body.new_password) {
          return formPage('Choose a new password', resetForm(body.token, 'The two passwords differ.'), 400);
        }
        try {
          await enforceIpLimit(deps, request, set, 'sensitive'); // as the API route: using a link is not asking for one
          await resetPassword(deps, body.token, body.new_password);
        } catch (err) {
          return failure(err, 'Password not changed', paragraph('Ask for a new link from the sign-in page if this one has expired or was used.'));
        }
        return formPage('Password changed', paragraph('Your password has been changed and every session was signed out. Sign in with the new password.'));
      },
      {
        ...strict(t.Object({
          token: t.String({ minLength: 1, maxLength: 256 }),
          new_password: t.String({ maxLength: MAX_PASSWORD }),
          confirm_password: t.Optional(t.String({ maxLength: MAX_PASSWORD })),
        })),
        response: FORM_HTML,
        detail: {
          summary: 'Password-reset form submission',
          description: 'Form-encoded (`token`, `new_password`, optional `confirm_password`); answers an HTML page. Same effect as `POST /api/auth/reset-password`.',
        },
      },
    )
    .get('/verify-email', ({ query }) => (query.token ? formPage('Confirm your email address', verifyForm(query.token)) : missingToken()), {
      query: TokenQuery,
      response: HTML,
      detail: { summary: 'Email-confirmation page (the mailed link)', description: 'An HTML form that POSTs the token back to this path.' },
    })
    .post(
      '/verify-email',
      async ({ body, request, set }) => {
        try {
          await enforceIpLimit(deps, request, set, 'sensitive');
          const user = await verifyEmail(deps, body.token);
          return formPage('Email address confirmed', paragraph(`${user.email} is confirmed. You can sign in now.`));
        } catch (err) {
          return failure(err, 'Email address not confirmed');
        }
      },
      {
        ...strict(t.Object({ token: t.String({ minLength: 1, maxLength: 256 }) })),
        response: FORM_HTML,
        detail: { summary: 'Email-confirmation form submission', description: 'Form-encoded `token`; answers an HTML page. Same effect as `POST /api/auth/verify-email`.' },
      },
    );
}
