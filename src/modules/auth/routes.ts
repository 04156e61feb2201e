/**
 * `/api/auth/*` (API.md §2): registration, login, refresh, logout, passwords, verification.
 * API-key routes live in `keys/routes.ts`. Rate limits: `register`, `login` (IP + email), `login_ip`,
 * `password_reset`, `sensitive` and `refresh` buckets through the limiter of `limits/`.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { noContent } from '../../http';
import { csrfInvalid, errorResponses, unauthorized, validationError } from '../../errors';
import { clientIpOf, clientLimitKeyOf, enforceIpLimit, enforceLimits } from '../limits/plugin';
import { loginKey } from '../limits/service';
import { toUserJson, UserSchema } from '../users/model';
import { checkCsrf, clearedCookies, readCookie, REFRESH_COOKIE, sentFromReference, sessionCookies } from './cookies';
import { authGuard, requireSession } from './guard';
import {
  Accepted, AuthResult, ChangePasswordBody, ForgotPasswordBody, LoginBody, RefreshBody, RegisterBody, RegisterResult,
  ResetPasswordBody, SessionSchema, strict, VerifyEmailBody,
} from './model';
import { changePassword, login, register, requestPasswordReset, resetPassword, verifyEmail } from './service';
import { refreshSession, revokeAllSessions, revokeSession, sessionOfRefreshToken, toSessionJson, type IssuedSession } from './sessions';

const SESSION_SECURITY: Record<string, string[]>[] = [{ bearerJwt: [] }, { cookie: [] }];


export function authRoutes(deps: AppDeps) {
  const secure = deps.config.publicUrl.startsWith('https://');
  const meta = (request: Request) => ({ ip: clientIpOf(deps, request), userAgent: request.headers.get('user-agent') });
  const withCookies = (set: { headers: Record<string, unknown> }, s: IssuedSession) => {
    set.headers['set-cookie'] = sessionCookies({ ...s, refreshMaxAge: Math.floor((s.refreshExpiresAt - deps.clock.now()) / 1000) }, secure);
    // Elysia's web-standard adapter (Deno) turns headers with a cookie list into a `Headers` object
    // before it adds `application/json`, which then never reaches the response (text/plain, #19).
    set.headers['content-type'] = 'application/json; charset=utf-8';
  };
  /** Register and login: cookies, except for a request from the API reference (cookies.ts `sentFromReference`). */
  const signIn = (request: Request, set: { headers: Record<string, unknown> }, s: IssuedSession) => {
    if (!sentFromReference(request)) withCookies(set, s);
  };
  const FROM_REFERENCE = ' Sent from this reference page ("Test Request" on /docs), it sets no cookies: the browser keeps the session it has,'
    + ' and the answer\'s `session` carries the new session\'s tokens.';
  /** The refresh token of a request: the body wins; the cookie needs the CSRF header. */
  const presentedRefresh = (request: Request, fromBody: string | undefined): { token: string; viaCookie: boolean } | null => {
    if (fromBody) return { token: fromBody, viaCookie: false };
    const cookie = readCookie(request, REFRESH_COOKIE);
    if (!cookie) return null;
    if (!checkCsrf(request)) throw csrfInvalid();
    return { token: cookie, viaCookie: true };
  };

  return new Elysia({ name: 'pictor.auth.routes', prefix: '/api/auth', detail: { tags: ['auth'] } })
    .use(authGuard(deps))
    .post(
      '/register',
      async ({ body, request, set }) => {
        await enforceIpLimit(deps, request, set, 'register');
        const { user, session } = await register(deps, { email: body.email, password: body.password, inviteCode: body.invite_code }, meta(request));
        set.status = 201;
        if (!session) return { message: 'Check your email to confirm your account.', user: toUserJson(user) };
        signIn(request, set, session);
        return { user: toUserJson(user), session: toSessionJson(session) };
      },
      {
        ...strict(RegisterBody),
        response: { 201: RegisterResult, ...errorResponses(400, 409, 413, 429) },
        detail: { summary: 'Create an account', description: '`invite_code` is required when `INVITE_ONLY=true`; sent when registration is open, it is checked (400 when invalid, used or expired) and used up all the same. Sets the session cookies.'
          + FROM_REFERENCE + ' The example’s password is public: do not keep an account made with it.' },
      },
    )
    .post(
      '/login',
      async ({ body, request, set }) => {
        // IP and email together (one account's guesses), and IP alone (one address trying many accounts).
        const ip = clientLimitKeyOf(deps, request);
        await enforceLimits(deps, set, [{ bucket: 'login', key: loginKey(ip, body.email) }, { bucket: 'login_ip', key: ip }]);
        const { user, session } = await login(deps, body, meta(request));
        signIn(request, set, session);
        return { user: toUserJson(user), session: toSessionJson(session) };
      },
      {
        ...strict(LoginBody),
        response: { 200: AuthResult, ...errorResponses(400, 401, 403, 413, 429) },
        detail: { summary: 'Sign in', description: 'Unknown email and wrong password give the same 401. Sets the session cookies. Rate-limited per client IP and email (`login`) and per client IP alone (`login_ip`).'
          + FROM_REFERENCE },
      },
    )
    .post(
      '/refresh',
      async ({ body, request, set }) => {
        // Its own bucket, apart from password guesses (`sensitive`): guesses from an address must not
        // sign out the other people behind it.
        await enforceIpLimit(deps, request, set, 'refresh');
        const presented = presentedRefresh(request, body?.refresh_token);
        if (!presented) throw unauthorized('Send refresh_token or the pictor_refresh cookie.');
        const session = await refreshSession(deps, presented.token);
        if (presented.viaCookie) withCookies(set, session);
        return { session: toSessionJson(session) };
      },
      {
        ...strict(RefreshBody),
        response: { 200: t.Object({ session: SessionSchema }), ...errorResponses(400, 401, 403, 429) },
        detail: {
          summary: 'Rotate a refresh token',
          description: 'Returns a new session and rotates the refresh token. A rotated token used again within `REFRESH_REUSE_INTERVAL` '
            + '(30 s) of its rotation, e.g. by two tabs refreshing at once, gets the same new session (a reuse interval, deviating from '
            + 'API.md\'s "exactly one wins"); used after that, it is a replay and revokes the whole session (401 `TOKEN_REUSED`).',
        },
      },
    )
    .post(
      '/logout',
      async ({ body, request, set }) => {
        const principal = await deps.credentials.resolve(request);
        if (principal) requireSession(principal);
        const presented = presentedRefresh(request, body?.refresh_token);
        const owned = presented ? await sessionOfRefreshToken(deps, presented.token) : null;
        // Only a token of the signed-in account ends a session here: another's ends nothing (400).
        if (owned && principal && owned.userId !== principal.userId && !presented?.viaCookie) {
          throw validationError('This refresh_token is of another account: sign that session out with its own credentials.', [{ in: 'body', path: '/refresh_token', message: 'is of another account' }]);
        }
        const sessionId = owned && (!principal || owned.userId === principal.userId) ? owned.sessionId : principal?.sessionId;
        if (!sessionId) throw unauthorized();
        await revokeSession(deps, sessionId);
        set.headers['set-cookie'] = clearedCookies(secure);
        return noContent();
      },
      {
        ...strict(RefreshBody),
        response: { 204: t.Void(), ...errorResponses(400, 401, 403) },
        detail: { summary: 'Sign out this session', description: 'Revokes this session (by access token, `refresh_token` or cookie) and clears the cookies. A `refresh_token` of another account than the access token\'s is a 400.', security: SESSION_SECURITY },
      },
    )
    .post(
      '/logout-all',
      async ({ principal, set }) => {
        await revokeAllSessions(deps, principal.userId);
        set.headers['set-cookie'] = clearedCookies(secure);
        return noContent();
      },
      {
        auth: 'session',
        response: { 204: t.Void(), ...errorResponses(401, 403) },
        detail: { summary: 'Sign out everywhere', description: 'Revokes every session and invalidates live access tokens.', security: SESSION_SECURITY },
      },
    )
    .post(
      '/change-password',
      async ({ principal, body, request, set }) => {
        await enforceIpLimit(deps, request, set, 'sensitive');
        const { user, session } = await changePassword(deps, principal.userId, body.current_password, body.new_password, meta(request));
        if (principal.via === 'cookie') withCookies(set, session);
        return { user: toUserJson(user), session: toSessionJson(session) };
      },
      {
        auth: 'session',
        ...strict(ChangePasswordBody),
        response: { 200: AuthResult, ...errorResponses(400, 401, 403, 429) },
        detail: { summary: 'Change the password', description: 'Ends every session, this one included, and returns a new session. A new password equal to the current one is refused (400), and no session ends.', security: SESSION_SECURITY },
      },
    )
    .post(
      '/forgot-password',
      async ({ body, request, set }) => {
        await enforceIpLimit(deps, request, set, 'password_reset');
        requestPasswordReset(deps, body.email, checkRedirect(deps, body.redirect_to));
        set.status = 202;
        return { message: 'If an account exists for this address, a reset link is on its way.' };
      },
      {
        ...strict(ForgotPasswordBody),
        response: { 202: Accepted, ...errorResponses(400, 429) },
        detail: { summary: 'Mail a password-reset link', description: 'Always 202, whether or not the account exists. The link is valid one hour, once. An account has at most 3 open links (using one, or a new password, ends them all): past that, nothing is mailed.' },
      },
    )
    .post(
      '/reset-password',
      async ({ body, request, set }) => {
        // Using a link is not asking for one: the `sensitive` bucket (five requests for links spent the quota to use them).
        await enforceIpLimit(deps, request, set, 'sensitive');
        await resetPassword(deps, body.token, body.new_password);
        return noContent();
      },
      {
        ...strict(ResetPasswordBody),
        response: { 204: t.Void(), ...errorResponses(400, 429) },
        detail: { summary: 'Set a new password from a reset link', description: 'Revokes every session of the account.' },
      },
    )
    .post(
      '/verify-email',
      async ({ body, request, set }) => {
        await enforceIpLimit(deps, request, set, 'sensitive');
        return { user: toUserJson(await verifyEmail(deps, body.token)) };
      },
      {
        ...strict(VerifyEmailBody),
        response: { 200: t.Object({ user: UserSchema }), ...errorResponses(400, 429) },
        detail: { summary: 'Confirm an email address', description: 'With the token from the mailed link.' },
      },
    );
}

/**
 * Reset links may only point at our own origin or one listed in `ALLOWED_REDIRECT_ORIGINS` (a
 * web app's): any other `redirect_to` would mail the token to a phishing page.
 */
function checkRedirect(deps: AppDeps, redirectTo: string | undefined): string | undefined {
  if (redirectTo === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(redirectTo, deps.config.publicUrl);
  } catch {
    throw validationError('redirect_to is not a URL.', [{ path: '/redirect_to', message: 'must be a URL' }]);
  }
  if (url.origin !== new URL(deps.config.publicUrl).origin && !deps.config.allowedRedirectOrigins.includes(url.origin)) {
    throw validationError('redirect_to must be on this server (PUBLIC_URL) or an origin in ALLOWED_REDIRECT_ORIGINS.', [
      { path: '/redirect_to', message: `origin ${url.origin} is not allowed` },
    ]);
  }
  return url.toString();
}
