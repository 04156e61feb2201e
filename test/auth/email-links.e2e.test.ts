/**
 * The mailed links end to end (issue #26 point 6): the verification and reset links read from a
 * real SMTP sink point at this server's listening port, open an HTML page (no script, strict
 * CSP) whose form completes the action, after which login works; `redirect_to` accepts only
 * PUBLIC_URL's origin and `ALLOWED_REDIRECT_ORIGINS`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createClient } from '../helpers/client';
import { until } from '../helpers/until';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp';

// Argon2id at 64 MiB on a shared 2-core box: a flow with several password hashes takes seconds.
setDefaultTimeout(60_000);

const WEB_APP = 'https://app.example.com';
let seq = 0;
const email = (tag: string) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;

/** The first link in a mail to `path` (quoted-printable undone). */
function linkFrom(mail: ReceivedMail, path: string): URL {
  const text = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = new RegExp(`(https?://[^\\s"<>]+${path}\\?token=[A-Za-z0-9_-]+)`).exec(text);
  if (!m?.[1]) throw new Error(`no ${path} link in mail:\n${text}`);
  return new URL(m[1]);
}

/** The form of an HTML page: its action and its hidden inputs. */
function formOf(html: string): { action: string; hidden: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in page:\n${html}`);
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[m[1]!] = m[2]!;
  return { action, hidden };
}

describe('mailed links open pages that complete the action', () => {
  let smtp: SmtpSink;
  let server: RunningServer;
  let api: ReturnType<typeof createClient>;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    server = await startServer({
      env: {
        SMTP_URL: smtp.url,
        REQUIRE_EMAIL_VERIFICATION: 'true',
        ALLOWED_REDIRECT_ORIGINS: WEB_APP,
        RATE_LIMIT_REGISTER: '100/1h',
        RATE_LIMIT_PASSWORD_RESET: '100/1h',
        RATE_LIMIT_SENSITIVE: '100/15m',
      },
    });
    api = createClient(server.url);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  /** Opens a mailed link on this server (the link says `localhost`; the test server listens on 127.0.0.1). */
  async function open(link: URL): Promise<Response> {
    expect(link.origin).toBe(`http://localhost:${server.port}`);
    return fetch(`${server.url}${link.pathname}${link.search}`);
  }

  async function submit(action: string, fields: Record<string, string>): Promise<Response> {
    return fetch(`${server.url}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  function expectSafePage(res: Response, html: string): void {
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html.toLowerCase()).not.toContain('<script');
  }

  test('verify-email link: the page confirms the address and login then works', async () => {
    const address = email('verify');
    const password = 'correct horse 1';
    expect((await api('POST', '/api/auth/register', { email: address, password })).status).toBe(201);
    expect((await api('POST', '/api/auth/login', { email: address, password })).body.error).toBe('EMAIL_NOT_VERIFIED');

    const link = linkFrom(await smtp.waitFor(address, /verify-email/), '/verify-email');
    expect(link.pathname).toBe('/verify-email');
    const res = await open(link);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectSafePage(res, html);
    const form = formOf(html);
    expect(form.hidden.token).toBe(link.searchParams.get('token')!);
    // Opening the page (as a mail scanner would) does not use the token up.
    expect((await api('POST', '/api/auth/login', { email: address, password })).status).toBe(403);

    const done = await submit(form.action, form.hidden);
    const doneHtml = await done.text();
    expect(done.status).toBe(200);
    expectSafePage(done, doneHtml);
    expect(doneHtml).toContain('confirmed');
    expect((await api('POST', '/api/auth/login', { email: address, password })).status).toBe(200);

    // The token works once.
    const again = await submit(form.action, form.hidden);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('invalid, used or expired');
  });

  test('reset-password link: the form sets the new password, login works with it only', async () => {
    const address = email('reset');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    expect((await api('POST', '/api/auth/forgot-password', { email: address })).status).toBe(202);

    const link = linkFrom(await smtp.waitFor(address, /reset-password/), '/reset-password');
    const res = await open(link);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectSafePage(res, html);
    expect(html).toContain('name="new_password"');
    const form = formOf(html);

    // A short or mismatched password is shown on the page again, and the token stays usable.
    const short = await submit(form.action, { ...form.hidden, new_password: 'short', confirm_password: 'short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('at least 8 characters');
    const mismatch = await submit(form.action, { ...form.hidden, new_password: 'new password 2', confirm_password: 'new password 3' });
    expect(mismatch.status).toBe(400);
    // A form the route's schema refuses (a field it does not take) is a page too: it was JSON.
    const extra = await submit(form.action, { ...form.hidden, new_password: 'new password 2', confirm_password: 'new password 2', remember: 'on' });
    const extraHtml = await extra.text();
    expect(extra.status).toBe(400);
    expectSafePage(extra, extraHtml);
    expect(extraHtml).toContain('Password not changed');
    expect(extraHtml).toContain('remember');

    const done = await submit(form.action, { ...form.hidden, new_password: 'new password 2', confirm_password: 'new password 2' });
    const doneHtml = await done.text();
    expect(done.status).toBe(200);
    expectSafePage(done, doneHtml);
    expect(doneHtml).toContain('Password changed');
    // Resetting from the mailbox confirms the address as well, so login is allowed.
    expect((await api('POST', '/api/auth/login', { email: address, password: 'new password 2' })).status).toBe(200);
    expect((await api('POST', '/api/auth/login', { email: address, password: 'old password 1' })).status).toBe(401);
  });

  test('one account has at most 3 open reset links, however many addresses ask; the others are answered alike and mail nothing', async () => {
    const address = email('flood');
    const made = await api('POST', '/api/auth/register', { email: address, password: 'old password 1' });
    expect(made.status).toBe(201);
    const id = made.body.user.id as string;
    for (let i = 0; i < 5; i++) expect((await api('POST', '/api/auth/forgot-password', { email: address })).status).toBe(202);
    // The fourth and fifth are passed over (the lookup runs after the answer): then the count is final.
    await until('two requests passed over', async () => (server.logs.filter((l) => l.msg?.toString().startsWith('password reset mail not sent: the account already has 3 open reset links') && l.user_id === id).length === 2 ? true : null));
    await until('three reset mails', async () => (smtp.mails.filter((m) => m.to.includes(address) && /reset-password/.test(m.raw)).length >= 3 ? true : null));
    expect(smtp.mails.filter((m) => m.to.includes(address) && /reset-password/.test(m.raw)).length).toBe(3);
  });

  test('a new password cancels every other open reset link (an older mail could take the account back)', async () => {
    const address = email('resets');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await api('POST', '/api/auth/forgot-password', { email: address })).status).toBe(202);
      await until(`reset mail ${i + 1}`, async () => (smtp.mails.filter((m) => m.to.includes(address) && /reset-password/.test(m.raw)).length > i ? true : null));
    }
    for (const m of smtp.mails.filter((x) => x.to.includes(address) && /reset-password/.test(x.raw))) tokens.push(linkFrom(m, '/reset-password').searchParams.get('token')!);
    expect(new Set(tokens).size).toBe(3);
    const reset = (token: string, password: string) => api('POST', '/api/auth/reset-password', { token, new_password: password });
    expect((await reset(tokens[0]!, 'new password 2')).status).toBe(204);
    // The owner took the account back with the first link: the other two no longer work…
    expect((await reset(tokens[1]!, 'attacker password')).status).toBe(400);
    // …nor, after a password change, a link mailed before it.
    expect((await api('POST', '/api/auth/forgot-password', { email: address })).status).toBe(202);
    await until('a fourth reset mail', async () => (smtp.mails.filter((m) => m.to.includes(address) && /reset-password/.test(m.raw)).length > 3 ? true : null));
    const late = linkFrom(smtp.mails.filter((m) => m.to.includes(address) && /reset-password/.test(m.raw))[3]!, '/reset-password').searchParams.get('token')!;
    const login = await api<{ session: { access_token: string } }>('POST', '/api/auth/login', { email: address, password: 'new password 2' });
    const changed = await api('POST', '/api/auth/change-password', { current_password: 'new password 2', new_password: 'new password 3' }, { bearer: login.body.session.access_token });
    expect(changed.status).toBe(200);
    expect((await reset(late, 'attacker password')).status).toBe(400);
    expect((await reset(tokens[2]!, 'attacker password')).status).toBe(400);
    expect((await api('POST', '/api/auth/login', { email: address, password: 'new password 3' })).status).toBe(200);
  });

  test('a link without its token says so', async () => {
    for (const path of ['/reset-password', '/verify-email']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('no token');
    }
  });

  test('redirect_to: a listed origin is used for the link, any other origin is refused', async () => {
    const address = email('redirect');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    const listed = await api('POST', '/api/auth/forgot-password', { email: address, redirect_to: `${WEB_APP}/reset` });
    expect(listed.status).toBe(202);
    const link = linkFrom(await smtp.waitFor(address, /app\.example\.com/), '/reset');
    expect(link.origin).toBe(WEB_APP);

    for (const foreign of ['https://evil.example.net/reset', 'https://app.example.com.evil.net/reset', 'javascript:alert(1)']) {
      const refused = await api('POST', '/api/auth/forgot-password', { email: address, redirect_to: foreign });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('VALIDATION_ERROR');
    }
    // This server's own origin is always allowed.
    expect((await api('POST', '/api/auth/forgot-password', { email: address, redirect_to: `http://localhost:${server.port}/reset-password` })).status).toBe(202);
  });

  test('a redirect_to with a fragment gets the token in its query, before the fragment (it landed inside the fragment)', async () => {
    const address = email('fragment');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    expect((await api('POST', '/api/auth/forgot-password', { email: address, redirect_to: `${WEB_APP}/reset#top` })).status).toBe(202);
    const mail = await smtp.waitFor(address, /reset/);
    const text = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(text).toMatch(new RegExp(`${WEB_APP}/reset\\?token=[A-Za-z0-9_-]+#top`));
  });
});

describe('reset links under a tight password_reset limit', () => {
  let smtp: SmtpSink;
  let server: RunningServer;
  let api: ReturnType<typeof createClient>;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    server = await startServer({
      env: { SMTP_URL: smtp.url, ALLOWED_REDIRECT_ORIGINS: WEB_APP, RATE_LIMIT_REGISTER: '100/1h', RATE_LIMIT_PASSWORD_RESET: '2/1h', RATE_LIMIT_SENSITIVE: '3/15m' },
    });
    api = createClient(server.url);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  test('asking for links spends password_reset; using one does not (the fresh link was a 429 for an hour)', async () => {
    const address = email('limit');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    expect((await api('POST', '/api/auth/forgot-password', { email: address })).status).toBe(202);
    expect((await api('POST', '/api/auth/forgot-password', { email: 'nobody@example.com' })).status).toBe(202);
    const third = await api('POST', '/api/auth/forgot-password', { email: address });
    expect([third.status, third.body.details?.bucket]).toEqual([429, 'password_reset']);
    const token = linkFrom(await smtp.waitFor(address, /reset-password/), '/reset-password').searchParams.get('token')!;
    expect((await api('POST', '/api/auth/reset-password', { token, new_password: 'new password 2' })).status).toBe(204);
    expect((await api('POST', '/api/auth/login', { email: address, password: 'new password 2' })).status).toBe(200);
  });

  test('the forms answer the limiter with an HTML 429 that the OpenAPI document lists (it listed 200 and 400 only)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${server.url}/verify-email`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=not-a-token' });
      await res.text();
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('content-type')).toContain('text/html');
        break;
      }
    }
    expect(statuses.at(-1)).toBe(429);
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const path of ['/verify-email', '/reset-password']) expect([path, Object.keys(spec.paths[path]!.post!.responses)]).toEqual([path, expect.arrayContaining(['429'])]);
  });
});
