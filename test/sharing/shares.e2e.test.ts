/**
 * Protected share links over real HTTP (issue #25.2): a password link refuses a wrong password
 * (401) and counts every attempt, so guessing ends in 429; the right password gets the file's
 * bytes; `max_views=2` serves two deliveries and answers the third 410; revocation makes the
 * link 404; a private file is shareable while `/i` keeps answering 404.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, DB_BACKENDS, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

const ATTEMPTS = 3;

describe.each(DB_BACKENDS)('share links (%s)', (backend) => {
  let db: TestDatabase | null = null;
  let srv: RunningServer;
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  let png: Buffer;

  async function upload(query = ''): Promise<{ id: string; name: string; is_public: boolean }> {
    const res = await fetch(`${srv.url}/api/files${query}`, { method: 'POST', body: new Uint8Array(png), headers: { ...auth(), 'content-type': 'image/png' } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: { id: string; name: string; is_public: boolean } }).file;
  }
  async function share(id: string, body: Record<string, unknown>) {
    const res = await fetch(`${srv.url}/api/files/${id}/shares`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; url: string; has_password: boolean; views: number; max_views: number | null; status: string };
  }
  /** The server's own address for a URL built from PUBLIC_URL. */
  const local = (u: string) => srv.url + new URL(u).pathname;

  beforeAll(async () => {
    png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
    // Postgres with Redis (the limiter in Redis), or the embedded database with the in-process limiter.
    if (backend === 'postgres') {
      await requireRedis();
      db = await createTestDatabase();
    }
    const services: Record<string, string> = db ? { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL } : {};
    srv = await startServer({ env: { ...services, RATE_LIMIT_SHARE_PASSWORD: `${ATTEMPTS}/15m`, RATE_LIMIT_REGISTER: '1000/1h' } });
    key = srv.bootstrap!.api_key;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
  });

  test('password link: the form asks, a wrong password is refused and counted (429 at the limit), the right one gets the file', async () => {
    const f = await upload('?is_public=false');
    const link = await share(f.id, { password: 'open sesame' });
    expect(link.has_password).toBe(true);
    expect(link.url).toMatch(/\/s\/[A-Za-z0-9]{22}$/);

    // A script that sends no password is told what to send, in the envelope (it got the HTML form, 200).
    const bare = await fetch(local(link.url));
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error: 'UNAUTHORIZED', message: expect.stringContaining('X-Share-Password') });
    // A browser's page: an HTML form, no view counted, no script allowed.
    const form = await fetch(local(link.url), { headers: { accept: 'text/html' } });
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toContain('text/html');
    expect(form.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await form.text()).toContain('name="password"');

    // The right password (form POST): the file's bytes.
    const right = await fetch(local(link.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=open+sesame' });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await right.arrayBuffer()).equals(png)).toBe(true);

    // Wrong passwords: 401 (form again) while attempts remain — the right one above counted too.
    const wrong = () => fetch(local(link.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=guess' });
    const answers: number[] = [];
    for (let i = 0; i < ATTEMPTS; i++) answers.push((await wrong()).status);
    expect(answers).toEqual([...Array(ATTEMPTS - 1).fill(401), 429]);
    // A script's POST is answered in the envelope, as its GET is (it got the HTML form and pages).
    const scripted = await wrong();
    expect([scripted.headers.get('content-type')?.split(';')[0], ((await scripted.json()) as { error: string }).error]).toEqual(['application/json', 'RATE_LIMITED']);
    const unknown = await fetch(`${srv.url}/s/nosuchlinktoken000000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"password":"x"}' });
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).toEqual([404, 'NOT_FOUND']);
    const plain = await fetch(local(link.url), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'password=x' });
    expect(((await plain.json()) as { message: string }).message).toBe('This route takes application/json or a form (application/x-www-form-urlencoded), not text/plain.');
    const limited = await wrong();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Even the right password waits now (the bucket counts attempts, not failures).
    const header = await fetch(local(link.url), { headers: { 'x-share-password': 'open sesame' } });
    expect(header.status).toBe(429);
    expect(((await header.json()) as { details: { bucket: string } }).details.bucket).toBe('share_password');

    // The private file itself stays private.
    expect((await fetch(`${srv.url}/i/${f.id}`)).status).toBe(404);
    const listed = await fetch(`${srv.url}/api/files/${f.id}/shares`, { headers: auth() });
    const list = (await listed.json()) as { results: { id: string; views: number }[]; count: number };
    expect(list.count).toBe(1);
    expect(list.results[0]!.views).toBe(1);
  });

  test('X-Share-Password: wrong → 401 JSON, right → the file', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'hunter22' });
    const wrong = await fetch(local(link.url), { headers: { 'x-share-password': 'nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('UNAUTHORIZED');
    const right = await fetch(local(link.url), { headers: { 'x-share-password': 'hunter22' } });
    expect(right.status).toBe(200);
    expect(Buffer.from(await right.arrayBuffer()).equals(png)).toBe(true);
  });

  test('POST /s/:token takes X-Share-Password as its GET does (ignored, an empty password was checked and counted); sending none is a 401 that counts nothing', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'hunter22' });
    const post = (headers: Record<string, string>) => fetch(local(link.url), { method: 'POST', headers });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toContain('needs its password');
    const right = await post({ 'x-share-password': 'hunter22' });
    expect(right.status).toBe(200);
    expect(Buffer.from(await right.arrayBuffer()).equals(png)).toBe(true);
    const wrong = await post({ 'x-share-password': 'nope' });
    expect(wrong.status).toBe(401);
    // Two attempts counted (the right one and this), not the one that sent nothing.
    expect(Number(wrong.headers.get('x-ratelimit-limit')) - Number(wrong.headers.get('x-ratelimit-remaining'))).toBe(2);
  });

  test('a password sent twice in a form, one whose escapes are not UTF-8, or an X-Share-Password longer than a password can be: 400, no attempt counted', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'hunter22' });
    const form = (body: string) => fetch(local(link.url), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    // The last one won: a wrong password followed by the right one opened the link.
    const twice = await form('password=nope&password=hunter22');
    const out = (await twice.json()) as { error: string; details: { fields: { in: string; path: string; message: string }[] } };
    expect([twice.status, out.error, out.details.fields[0]]).toEqual([400, 'VALIDATION_ERROR', { in: 'body', path: '/password', message: 'given more than once' }]);
    for (const method of ['GET', 'POST']) {
      const long = await fetch(local(link.url), { method, headers: { 'x-share-password': 'x'.repeat(257) } });
      const body = (await long.json()) as { error: string; details: { fields: { in: string }[] } };
      expect({ method, status: long.status, error: body.error, in: body.details.fields[0]!.in }).toEqual({ method, status: 400, error: 'VALIDATION_ERROR', in: 'header' });
    }
    // An escape that is not UTF-8 was read as U+FFFD and checked (and counted) as a password.
    for (const body of ['password=%FF%FE', 'password=hunter%C3']) {
      const bad = await form(body);
      const out = (await bad.json()) as { error: string; details: { fields: { in: string; path: string; message: string }[] } };
      expect({ body, status: bad.status, error: out.error, field: out.details.fields[0] }).toEqual({ body, status: 400, error: 'VALIDATION_ERROR', field: { in: 'body', path: '/', message: 'not valid percent-encoded UTF-8' } });
    }
    // A browser's form post gets the refusal as a page (it got the JSON envelope).
    const page = await fetch(local(link.url), { method: 'POST', body: 'password=nope&password=hunter22', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
    expect([page.status, page.headers.get('content-type'), (await page.text()).includes('it was given more than once')]).toEqual([400, 'text/html; charset=utf-8', true]);
    // None of them was an attempt: all of the bucket is left.
    const right = await form('password=hunter22');
    expect(right.status).toBe(200);
    await right.arrayBuffer();
    expect(Number(right.headers.get('x-ratelimit-limit')) - Number(right.headers.get('x-ratelimit-remaining'))).toBe(1);
  });

  test('max_views=2: two deliveries, the third is 410; the counter and status say so', async () => {
    const f = await upload();
    const link = await share(f.id, { max_views: 2 });
    // A HEAD sends no bytes and costs no view.
    const head = await fetch(local(link.url), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(png.length)]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(local(link.url));
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 410]);
    const page = await fetch(local(link.url), { headers: { accept: 'text/html' } });
    expect([page.status, page.headers.get('content-type')?.split(';')[0]]).toEqual([410, 'text/html']);
    expect(await page.text()).toContain('Link no longer available');
    const list = (await (await fetch(`${srv.url}/api/files/${f.id}/shares`, { headers: auth() })).json()) as { results: { views: number; status: string }[] };
    expect(list.results[0]).toMatchObject({ views: 2, status: 'used_up' });
  });

  test('concurrent viewers never exceed max_views', async () => {
    const f = await upload();
    const link = await share(f.id, { max_views: 3 });
    const statuses = await Promise.all(Array.from({ length: 10 }, async () => {
      const res = await fetch(local(link.url));
      await res.arrayBuffer();
      return res.status;
    }));
    expect(statuses.filter((s) => s === 200).length).toBe(3);
    expect(statuses.filter((s) => s === 410).length).toBe(7);
  });

  test('a view is an answer that sends bytes: a 304 or a 416 leaves a 1-view link usable, the next 200 (or a 206) spends it', async () => {
    const f = await upload();
    const etag = `"${createHash('sha256').update(png).digest('hex')}"`;
    // If-None-Match naming the file's ETag: 304, no bytes, no view.
    const a = await share(f.id, { max_views: 1 });
    const cached = await fetch(local(a.url), { headers: { 'if-none-match': etag } });
    expect([cached.status, cached.headers.get('etag')]).toEqual([304, etag]);
    await cached.arrayBuffer();
    const listed = (await (await fetch(`${srv.url}/api/files/${f.id}/shares`, { headers: auth() })).json()) as { results: { id: string; views: number; status: string }[] };
    expect(listed.results.find((l) => l.id === a.id)).toMatchObject({ views: 0, status: 'active' });
    const first = await fetch(local(a.url));
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(png)).toBe(true);
    expect((await fetch(local(a.url))).status).toBe(410);

    // A range past the end: 416, no view.
    const b = await share(f.id, { max_views: 1 });
    const past = await fetch(local(b.url), { headers: { range: 'bytes=999999-' } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${png.length}`]);
    await past.arrayBuffer();
    const full = await fetch(local(b.url));
    expect(full.status).toBe(200);
    expect(Buffer.from(await full.arrayBuffer()).equals(png)).toBe(true);
    expect((await fetch(local(b.url))).status).toBe(410);

    // A satisfiable range sends bytes: 206, the view.
    const c = await share(f.id, { max_views: 1 });
    const part = await fetch(local(c.url), { headers: { range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(png.subarray(0, 10))).toBe(true);
    expect((await fetch(local(c.url))).status).toBe(410);
  });

  test('revoked → 404; unknown token → 404; a past expires_at → 400; another account cannot list or revoke', async () => {
    const f = await upload();
    const link = await share(f.id, {});
    // Trackers' parameters on a pasted link are ignored, as on `/i`.
    expect((await fetch(`${local(link.url)}?utm_source=chat`)).status).toBe(200);
    const del = await fetch(`${srv.url}/api/files/${f.id}/shares/${link.id}`, { method: 'DELETE', headers: auth() });
    expect(del.status).toBe(204);
    expect((await fetch(local(link.url))).status).toBe(404);
    expect((await fetch(`${srv.url}/s/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
    // A person opening the dead link in a browser reads a page; a script keeps the JSON envelope.
    const browser = await fetch(local(link.url), { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(browser.status).toBe(404);
    expect(browser.headers.get('content-type')).toStartWith('text/html');
    // It names both causes: a revoked link and a mistyped one look alike (the page read only "not found").
    expect(await browser.text()).toContain('Share link not found.</p><p>Check that you have the whole address: a share link ends in 22 letters and digits. Its owner may also have revoked it, or deleted the file.</p>');
    const script = await fetch(local(link.url), { headers: { accept: '*/*' } });
    expect(script.headers.get('content-type')).toStartWith('application/json');
    expect(((await script.json()) as { error: string }).error).toBe('NOT_FOUND');

    const past = await fetch(`${srv.url}/api/files/${f.id}/shares`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ expires_at: '2001-01-01T00:00:00Z' }),
    });
    expect(past.status).toBe(400);

    const reg = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `other-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' }),
    });
    const other = ((await reg.json()) as { session: { access_token: string } }).session.access_token;
    const link2 = await share(f.id, {});
    expect((await fetch(`${srv.url}/api/files/${f.id}/shares`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
    expect((await fetch(`${srv.url}/api/files/${f.id}/shares/${link2.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
    expect((await fetch(local(link2.url))).status).toBe(200);
  });

  const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  const views = async (fileId: string, linkId: string) =>
    ((await (await fetch(`${srv.url}/api/files/${fileId}/shares`, { headers: auth() })).json()) as { results: { id: string; views: number }[] })
      .results.find((l) => l.id === linkId)!.views;
  /** The page's picture (its `src`) and Download link, as addresses of the test server. */
  function pageLinks(html: string): { img: string; download: string } {
    const img = /<img src="([^"]+)"/.exec(html)?.[1];
    const download = /<a class="button" href="([^"]+)" download>/.exec(html)?.[1];
    expect([typeof img, typeof download]).toEqual(['string', 'string']);
    const unescape = (u: string) => local(u.replaceAll('&amp;', '&'));
    return { img: unescape(img!), download: unescape(download!) };
  }

  /** A browser's form POST to the link (no redirect followed): its answer and the cookie it set. */
  async function post(url: string, body = '', cookie?: string): Promise<{ res: Response; cookie: string }> {
    const res = await fetch(local(url), {
      method: 'POST', redirect: 'manual', body,
      headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    });
    return { res, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
  }
  const open = async (url: string, cookie?: string) => fetch(local(url), { headers: { ...BROWSER, ...(cookie ? { cookie } : {}) } });

  test('a limited link asks for a click first (a chat app\'s preview uses no view); the opening is the one view, its reloads, picture and Download count none', async () => {
    const f = await upload('?is_public=false');
    const link = await share(f.id, { max_views: 2 });
    const path = new URL(link.url).pathname;
    // A preview bot (or a person) fetching the page gets the Open button: no view.
    const bot = await fetch(local(link.url), { headers: { ...BROWSER, 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' } });
    expect(bot.status).toBe(200);
    expect(bot.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await bot.text()).toContain('This link can be opened 2 more times');
    expect(await views(f.id, link.id)).toBe(0);

    const first = await post(link.url);
    expect([first.res.status, first.res.headers.get('location')]).toEqual([303, path]);
    expect(first.cookie).toMatch(/^pictor_share=\d+\.[\w-]+$/);
    expect(await views(f.id, link.id)).toBe(1);
    const page = await open(link.url, first.cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect([page.headers.get('cache-control'), page.headers.get('x-robots-tag'), page.headers.get('referrer-policy')]).toEqual(['private, no-store', 'noindex', 'no-referrer']);
    const html = await page.text();
    expect(html).toContain(`<title>${f.name} · Pictor</title>`);
    expect(html).toContain('This link can be opened 1 more time.');
    expect(html).not.toContain(`/i/${f.id}`); // the private file's own address answers 404: the page uses signed ones
    const { img, download } = pageLinks(html);
    expect(new URL(img).pathname).toStartWith('/authenticated/s--');
    const picture = await fetch(img);
    expect([picture.status, picture.headers.get('content-type')?.startsWith('image/')]).toEqual([200, true]);
    await picture.arrayBuffer();
    const file = await fetch(download);
    expect([file.status, file.headers.get('content-disposition')?.startsWith('attachment')]).toEqual([200, true]);
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);
    expect((await open(link.url, first.cookie)).status).toBe(200); // a reload
    expect(await views(f.id, link.id)).toBe(1);

    // A second person opens the last view; the page says so.
    const second = await post(link.url);
    const last = await (await open(link.url, second.cookie)).text();
    expect(last).toContain('This was the last view this link allows');
    expect(await views(f.id, link.id)).toBe(2);
    // A third finds it spent; those who opened it can still reload it (within the hour), and Download still works.
    const dead = await open(link.url);
    expect(dead.status).toBe(410);
    expect(await dead.text()).toContain('Link no longer available');
    expect((await post(link.url)).res.status).toBe(410);
    expect((await open(link.url, first.cookie)).status).toBe(200);
    expect((await fetch(pageLinks(last).download)).status).toBe(200);
    expect(await views(f.id, link.id)).toBe(2);
  });

  test('a link without password or limit shows its page at once (that is the view); reloads under its cookie count none', async () => {
    const f = await upload();
    const link = await share(f.id, {});
    const page = await open(link.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<img src=');
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^pictor_share=/);
    expect((await open(link.url, cookie)).status).toBe(200);
    expect(await views(f.id, link.id)).toBe(1);
    expect((await open(link.url)).status).toBe(200); // another browser: another view
    expect(await views(f.id, link.id)).toBe(2);
  });

  test('the page says when the link ends: its own expiry, or the file\'s when that comes first', async () => {
    const utc = (d: string) => `${d.slice(0, 16).replace('T', ' at ')} UTC`;
    const expiring = await upload('?expires_in=86400');
    const fileEnd = ((await (await fetch(`${srv.url}/api/files/${expiring.id}`, { headers: auth() })).json()) as { expires_at: string }).expires_at;
    const forever = await (await open((await share(expiring.id, {})).url)).text();
    expect(forever).toContain(`The file is available until ${utc(fileEnd)}.`);
    const laterLink = await share(expiring.id, { expires_in: 7 * 86400 });
    const later = await (await open(laterLink.url)).text();
    expect(later).toContain(`The file is available until ${utc(fileEnd)}.`);
    // The API says so too (it gave the link's own end, a week after the file's).
    expect((laterLink as unknown as { expires_at: string }).expires_at).toBe(fileEnd);
    const listed = ((await (await fetch(`${srv.url}/api/files/${expiring.id}/shares`, { headers: auth() })).json()) as { results: { id: string; expires_at: string | null }[] }).results;
    expect(listed.map((l) => l.expires_at !== null && l.expires_at <= fileEnd)).toEqual(listed.map(() => true));
    const sooner = await share(expiring.id, { expires_in: 3600 });
    const soonerEnd = ((await (await fetch(`${srv.url}/api/files/${expiring.id}/shares`, { headers: auth() })).json()) as { results: { id: string; expires_at: string }[] }).results.find((l) => l.id === sooner.id)!.expires_at;
    const soonerPage = await (await open(sooner.url)).text();
    expect([soonerPage.includes(`The link expires ${utc(soonerEnd)}.`), soonerPage.includes('The file is available')]).toEqual([true, false]);
  });

  test('chat apps\' link previews cost no view, whatever they accept: a page (or the Open button), never the file', async () => {
    const f = await upload();
    const discord = { accept: '*/*', 'user-agent': 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)' };
    // A one-view link: the preview gets the Open button (it got the file itself, the one view).
    const once = await share(f.id, { max_views: 1 });
    const form = await fetch(local(once.url), { headers: discord });
    expect([form.status, form.headers.get('content-type'), (await form.text()).includes('This link can be opened 1 more time')]).toEqual([200, 'text/html; charset=utf-8', true]);
    expect(await views(f.id, once.id)).toBe(0);
    // A link without limit: the preview gets the page (its picture for the card), which is not the view.
    const open = await share(f.id, {});
    const slack = await fetch(local(open.url), { headers: { accept: '*/*', 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' } });
    expect([slack.status, (await slack.text()).includes('<img src='), slack.headers.get('set-cookie')]).toEqual([200, true, null]);
    expect(await views(f.id, open.id)).toBe(0);
    // A script is still counted.
    const script = await fetch(local(open.url));
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'image/png']);
    await script.arrayBuffer();
    expect(await views(f.id, open.id)).toBe(1);
  });

  test('a small text file is shown on its page as text, escaped; a large one gets the card', async () => {
    const post = (body: string) => fetch(`${srv.url}/api/files`, { method: 'POST', body, headers: { ...auth(), 'content-type': 'text/plain', 'x-file-name': 'notes.txt' } });
    const small = ((await (await post('Day 1: <script>alert(1)</script> & more\n')).json()) as { file: { id: string } }).file;
    const html = await (await open((await share(small.id, {})).url)).text();
    expect(html).toContain('<pre class="text">Day 1: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more\n</pre>');
    const big = ((await (await post('x'.repeat(64 * 1024 + 1))).json()) as { file: { id: string } }).file;
    const card = await (await open((await share(big.id, {})).url)).text();
    expect([card.includes('<pre'), card.includes('No preview for this type of file (text/plain)')]).toEqual([false, true]);
  });

  test('a protected link in a browser: a wrong password goes back to the form by GET, the right one to the page (the view) with a cookie for that link only', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'pass word' });
    const path = new URL(link.url).pathname;
    const wrong = await post(link.url, 'password=guess');
    expect([wrong.res.status, wrong.res.headers.get('location')]).toEqual([303, path]);
    expect(wrong.res.headers.get('set-cookie')).toMatch(new RegExp(`^pictor_share_note=wrong\\.${ATTEMPTS - 1}\\.[\\w-]+; Path=${path}; Max-Age=60; SameSite=Lax; HttpOnly$`));
    const again = await open(link.url, wrong.cookie);
    const form = await again.text();
    expect([again.status, form.includes('Wrong password.')]).toEqual([401, true]);
    // Said once: the note's cookie is cleared, so a reload is the plain form.
    expect(again.headers.get('set-cookie')).toStartWith(`pictor_share_note=; Path=${path}; Max-Age=0;`);
    // The refusal is tied to the autofocused field and is an alert, so a screen reader says it on arrival.
    expect(form).toContain('<p class="error" id="pw-error" role="alert">');
    expect(form).toContain('aria-invalid="true" aria-describedby="pw-error"');
    const right = await post(link.url, `password=${encodeURIComponent('pass word')}`);
    expect([right.res.status, right.res.headers.get('location')]).toEqual([303, path]);
    const setCookie = right.res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^pictor_share=\\d+\\.[\\w-]+; Path=${path}; Max-Age=3600; SameSite=Lax; HttpOnly$`));
    expect(await views(f.id, link.id)).toBe(1);
    const cookie = right.cookie;

    const page = await open(link.url, cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<img src=');
    expect(await views(f.id, link.id)).toBe(1);
    // The cookie stands for the password on a script's GET too: the bytes (a delivery, so a view).
    const bytes = await fetch(local(link.url), { headers: { cookie } });
    expect(Buffer.from(await bytes.arrayBuffer()).equals(png)).toBe(true);
    expect(await views(f.id, link.id)).toBe(2);

    // Another protected link does not take this link's cookie, and a changed one is refused: the form again, no view.
    const other = await share(f.id, { password: 'pass word' });
    expect(await (await open(other.url, cookie)).text()).toContain('name="password"');
    const [value, sig] = cookie.split('.') as [string, string];
    const forged = `${value.replace(/\d$/, (d) => String((Number(d) + 1) % 10))}.${sig}`;
    expect(await (await open(link.url, forged)).text()).toContain('name="password"');
    expect(await views(f.id, link.id)).toBe(2);
  });

  test('the password form, the Open button and the redirects are private, never stored and never indexed, as the file\'s page is', async () => {
    const f = await upload();
    const expectLinkHeaders = (res: Response) => {
      const cacheControl = res.headers.get('cache-control') ?? '';
      expect([cacheControl.includes('private'), cacheControl.includes('no-store'), res.headers.get('x-robots-tag')]).toEqual([true, true, 'noindex']);
    };
    const protectedLink = await share(f.id, { password: 'letmein' });
    const form = await fetch(local(protectedLink.url), { headers: BROWSER });
    expect([form.status, (await form.text()).includes('name="password"')]).toEqual([200, true]);
    expectLinkHeaders(form);
    const wrong = await post(protectedLink.url, 'password=wrong');
    expect(wrong.res.status).toBe(303);
    expectLinkHeaders(wrong.res);
    const again = await fetch(srv.url + wrong.res.headers.get('location')!, { headers: { ...BROWSER, cookie: wrong.cookie } });
    expect(again.status).toBe(401);
    expectLinkHeaders(again);
    const right = await post(protectedLink.url, 'password=letmein');
    expect(right.res.status).toBe(303);
    expectLinkHeaders(right.res);

    const limited = await share(f.id, { max_views: 1 });
    const button = await fetch(local(limited.url), { headers: BROWSER });
    expect([button.status, (await button.text()).includes('>Open</button>')]).toEqual([200, true]);
    expectLinkHeaders(button);
    const opened = await post(limited.url);
    expect(opened.res.status).toBe(303);
    expectLinkHeaders(opened.res);
    // The refusal page of the spent link too.
    const dead = await fetch(local(limited.url), { headers: BROWSER });
    expect(dead.status).toBe(410);
    expectLinkHeaders(dead);
  });

  test('a browser is told the attempts it has left, and a lockout is a page it reaches by GET (a reload counts no attempt)', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'right one' });
    const path = new URL(link.url).pathname;
    const texts: string[] = [];
    for (let i = 1; i <= ATTEMPTS; i++) {
      const { res, cookie } = await post(link.url, 'password=nope');
      expect(res.headers.get('location')).toBe(path);
      expect(cookie).toMatch(new RegExp(`^pictor_share_note=wrong\\.${ATTEMPTS - i}\\.[\\w-]+$`));
      const form = await open(link.url, cookie);
      texts.push(/<p class="error"[^>]*>([^<]*)<\/p>/.exec(await form.text())![1]!);
    }
    expect(texts).toEqual(['Wrong password. 2 more attempts before a pause.', 'Wrong password. 1 more attempt before a pause.', 'Wrong password. That was the last attempt for now: the next one waits.']);
    // Even the right password waits now; the browser is sent to a page saying for how long.
    const locked = await post(link.url, 'password=right+one');
    expect([locked.res.status, locked.res.headers.get('location')]).toEqual([303, path]);
    expect(locked.cookie).toMatch(/^pictor_share_note=locked\.\d+\.[\w-]+$/);
    const page = await open(link.url, locked.cookie);
    const html = await page.text();
    expect([page.status, page.headers.get('retry-after')]).toEqual([429, locked.cookie.split('.')[1]!]);
    expect(html).toContain('Too many password attempts on this link from your network.');
    expect(html).toMatch(/Try again in about \d+ (seconds|minutes)\./);
    expect(await views(f.id, link.id)).toBe(0);
  });

  test('a crafted link cannot show a lockout or a wrong password that did not happen (the redirect\'s query carried them)', async () => {
    const f = await upload();
    const link = await share(f.id, { password: 'right one' });
    for (const query of ['?locked=86400', '?wrong=1', '?wrong=']) {
      const page = await fetch(local(link.url) + query, { headers: BROWSER });
      const html = await page.text();
      expect({ query, status: page.status, retry: page.headers.get('retry-after'), said: /Wrong password|Too many/.test(html) }).toEqual({ query, status: 200, retry: null, said: false });
      expect(html).toContain('This file is protected by a password.');
    }
    // Nor a cookie the server did not sign for this link: unsigned, or another link's.
    const other = await share(f.id, { password: 'other one' });
    const elsewhere = await post(other.url, 'password=nope');
    for (const cookie of ['pictor_share_note=locked.86400', `pictor_share_note=locked.86400.${'A'.repeat(43)}`, elsewhere.cookie]) {
      const forged = await open(link.url, cookie);
      expect({ cookie, status: forged.status }).toEqual({ cookie, status: 200 });
      await forged.arrayBuffer();
    }
    const right = await post(link.url, 'password=right+one');
    expect([right.res.status, right.res.headers.get('location')]).toEqual([303, new URL(link.url).pathname]);
  });

  test('expiry: once expires_in has passed the link answers 410 and lists as expired', async () => {
    const f = await upload();
    const link = await share(f.id, { expires_in: 1 });
    expect(link.status).toBe('active');
    // Wait for the condition (the server's clock passing expires_at), not for a duration.
    let status = 0;
    for (let tries = 0; tries < 300 && status !== 410; tries++) {
      const res = await fetch(local(link.url));
      await res.arrayBuffer();
      status = res.status;
      expect([200, 410]).toContain(status);
      if (status !== 410) await Bun.sleep(100);
    }
    expect(status).toBe(410);
    const list = (await (await fetch(`${srv.url}/api/files/${f.id}/shares`, { headers: auth() })).json()) as { results: { status: string }[] };
    expect(list.results[0]!.status).toBe('expired');
  });

  test('deleting the file ends its links (404)', async () => {
    const f = await upload();
    const link = await share(f.id, {});
    expect((await fetch(`${srv.url}/api/files/${f.id}`, { method: 'DELETE', headers: auth() })).status).toBe(204);
    expect((await fetch(local(link.url))).status).toBe(404);
  });
});
