/**
 * The account pages of issue #21 in Chromium: API keys (acceptance 1: a key made on the page
 * with files:read,files:write uploads (201), cannot delete (403 MISSING_SCOPE), and once revoked
 * on the page is refused (401)); rename and re-scope; settings saved with what changed; the
 * request log filtered, paged and its ids copied; the integrations page's ShareX `.sxcu`
 * performed as ShareX would and its Flameshot script run with bash and curl (acceptance 5);
 * axe on every page (acceptance 6). Screenshots go to test-artifacts/webapp/.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { formatBytes } from '../../web/src/api';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { axeProblems, launch, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let context: BrowserContext;
let page: Page;
let session: { cookie: string; csrf: string };
const address = `keys-${Date.now().toString(36)}@example.com`;

beforeAll(async () => {
  server = await startServer({ env: { RATE_LIMIT_REGISTER: '100/1h', RATE_LIMIT_LOGIN: '100/15m', RATE_LIMIT_SENSITIVE: '100/15m' } });
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
  const res = await api('POST', '/api/auth/register', { email: address, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  session = { cookie: header, csrf: map.pictor_csrf! };
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

const image = (seed: number) =>
  sharp({ create: { width: 320, height: 200, channels: 3, background: { r: (seed * 53) % 256, g: 140, b: 200 } } }).png().toBuffer();

/** An upload as a program would send it, with the given headers. */
async function uploadWith(headers: Record<string, string>, bytes: Buffer, name = 'shot.png'): Promise<Response> {
  const form = new FormData();
  form.append('file', new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
  return fetch(`${server.url}/api/files`, { method: 'POST', headers, body: form });
}

const keyItem = (name: string) => page.getByRole('listitem', { name: `Key ${name}` });

describe('API keys page', () => {
  test('#21.1 create files:read,files:write, copy it, upload 201, delete 403 MISSING_SCOPE, revoke on the page, 401', async () => {
    await page.goto(`${base}/keys`);
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor(WAIT);
    await page.getByText('No API keys yet.').waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    // Two keys made elsewhere: the list the page reloads after creating shows them too.
    for (const [name, scopes] of [['CI deploy', ['files:write', 'files:delete', 'cache:write']], ['Grafana dashboard', ['account:read']]] as const) {
      expect((await api('POST', '/api/auth/api-keys', { name, scopes }, session)).status).toBe(201);
    }

    await page.getByLabel(/^Name/).fill('backup script');
    // Exactly files:read and files:write, whatever the form starts with.
    for (const box of await page.locator('.scopes input[type="checkbox"]').all()) await box.setChecked(false);
    await page.getByRole('checkbox', { name: 'files:read' }).check();
    await page.getByRole('checkbox', { name: 'files:write' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByLabel('API key', { exact: true });
    await shown.waitFor(WAIT);
    // The secret, shown once above the form, takes the focus (it was off-screen, focus on <body>).
    await page.waitForFunction(() => document.activeElement?.id === 'new-key-value', undefined, WAIT);
    await expect(page.getByText('this is the only time it is shown').count()).resolves.toBe(1);
    await page.locator('.new-key').getByRole('button', { name: 'Copy' }).click();
    await page.locator('.new-key').getByText('Copied').waitFor(WAIT);
    const key = await page.evaluate(() => navigator.clipboard.readText());
    expect(key).toBe(await shown.inputValue());
    expect(key).toMatch(/^pk_[A-Za-z0-9]{32,}$/);
    await keyItem('backup script').waitFor(WAIT);
    await expect(keyItem('backup script').locator('.chip').allTextContents()).resolves.toEqual(['files:read', 'files:write']);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.setViewportSize({ width: 1280, height: 1000 });
    await shot(page, 'keys-created');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(await axeProblems(page)).toEqual([]);

    const up = await uploadWith({ authorization: `Bearer ${key}` }, await image(1));
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    const del = await api('DELETE', `/api/files/${file.id}`, undefined, { key });
    expect(del.status).toBe(403);
    expect(del.body.error).toBe('MISSING_SCOPE');

    // While the key is shown, another cannot push it off the page unseen; and a key needs a name.
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('alert').filter({ hasText: 'First copy the new key shown above' }).waitFor(WAIT);
    expect(await shown.inputValue()).toBe(key);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await expect(shown.count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('alert').filter({ hasText: 'Give the key a name' }).waitFor(WAIT);
    // At the field: marked, described and focused (it was a line under the form, the focus on the button).
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('key-name');
    expect(await page.locator('#key-name').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#key-name').getAttribute('aria-describedby')).toBe('key-name-error');
    expect(await keyItem('Unnamed key').count()).toBe(0);
    await keyItem('backup script').getByRole('button', { name: 'Revoke backup script' }).click();
    await page.getByText('Every program using it is refused at once').waitFor(WAIT);
    await page.getByRole('button', { name: 'Yes, revoke backup script' }).click();
    await keyItem('backup script').waitFor({ state: 'detached', ...WAIT });
    await page.getByText('backup script was revoked').waitFor(WAIT);

    const after = await api('GET', '/api/files', undefined, { key });
    expect(after.status).toBe(401);
    expect((await uploadWith({ authorization: `Bearer ${key}` }, await image(2))).status).toBe(401);
  });

  test('rename and re-scope a key; an expiry date is kept', async () => {
    await page.getByLabel(/^Name/).fill('phone');
    for (const box of await page.locator('.scopes input[type="checkbox"]').all()) await box.setChecked(false);
    await page.getByRole('checkbox', { name: 'account:read' }).check();
    const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel(/^Expires on/).fill(day);
    await page.getByRole('button', { name: 'Create key' }).click();
    await keyItem('phone').waitFor(WAIT);
    await page.getByRole('button', { name: 'I have saved it' }).click();

    await keyItem('phone').getByRole('button', { name: 'Edit phone' }).click();
    const item = keyItem('phone');
    await item.getByLabel('Name').fill('phone uploads');
    await item.getByRole('checkbox', { name: 'files:write' }).check();
    await item.getByRole('button', { name: 'Save changes' }).click();
    await keyItem('phone uploads').getByText('Saved.').waitFor(WAIT);

    const list = await api('GET', '/api/auth/api-keys', undefined, session);
    const phone = (list.body.results as { name: string; scopes: string[]; expires_at: string }[]).find((k) => k.name === 'phone uploads');
    expect(phone?.scopes.sort()).toEqual(['account:read', 'files:write']);
    // The end of the chosen day in the browser's zone, which the test shares.
    expect(new Date(phone!.expires_at).getTime()).toBe(new Date(`${day}T23:59:59`).getTime());
    expect(await axeProblems(page)).toEqual([]);
  });
});

describe('settings page', () => {
  test('saving says what changed and takes effect; the plan bounds the upload limit', async () => {
    await page.goto(`${base}/settings`);
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor(WAIT);
    const plan = (await api('GET', '/api/profile', undefined, session)).body.plan as { max_upload_size_bytes: number };
    await page.getByText(`At most your plan’s`).waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);

    await page.getByLabel(/Private —/).check();
    await page.getByLabel('Default expiry of new uploads').selectOption({ label: 'After 7 days' });
    await page.getByLabel('Upload limit per file (MiB)').fill('2');
    await page.getByLabel('Public URL base').fill('https://cdn.example.com/');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved. What changed:').waitFor(WAIT);
    const changes = await page.locator('.changes li').allTextContents();
    expect(changes.sort()).toEqual([
      'Default expiry: never → after 7 days',
      'Default visibility: public → private',
      'Public URL base: the server’s own (PUBLIC_URL) → https://cdn.example.com',
      `Upload limit per file: ${formatBytes(plan.max_upload_size_bytes)} → 2.0 MiB`,
    ].sort());
    await shot(page, 'settings');
    expect(await axeProblems(page)).toEqual([]);

    const s = (await api('GET', '/api/settings', undefined, session)).body;
    expect(s).toMatchObject({ default_is_public: false, default_expires_in: 7 * 86_400, max_upload_size_bytes: 2 * 1024 * 1024, public_url_base: 'https://cdn.example.com' });
    // Taking effect: an upload over 2 MiB is refused for this account now.
    const big = await sharp({ create: { width: 1400, height: 1400, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const refused = await uploadWith({ cookie: session.cookie, 'x-csrf-token': session.csrf }, big);
    expect(refused.status).toBe(413);

    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Nothing changed.').waitFor(WAIT);
    // Above the plan: refused in words, nothing is saved.
    await page.getByLabel('Upload limit per file (MiB)').fill(String(Math.ceil(plan.max_upload_size_bytes / 1048576) + 5));
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: `The upload limit can be at most your plan’s ${formatBytes(plan.max_upload_size_bytes)}.` }).waitFor(WAIT);
    await page.getByLabel('Upload limit per file (MiB)').fill('2');
    // A base the API would refuse: said in words on the page (it showed the API's field text), nothing is saved.
    for (const base of ['ftp://files.example.com', 'cdn.example.com']) {
      await page.getByLabel('Public URL base').fill(base);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('alert').filter({ hasText: 'The public URL base must be a whole address starting with https:// or http://' }).waitFor(WAIT);
      // Under its field, which is marked and has the focus (it was a line under the form).
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('public-url-base');
      expect(await page.getByLabel('Public URL base').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByLabel('Public URL base').getAttribute('aria-describedby')).toContain('settings-error');
    }
    expect((await api('GET', '/api/settings', undefined, session)).body).toMatchObject({ max_upload_size_bytes: 2 * 1024 * 1024, public_url_base: 'https://cdn.example.com' });

    // A yes/no setting another module added (embed pages, #25) is a switch here, described by the API's document.
    await page.getByLabel('Public URL base').fill('https://cdn.example.com');
    const embeds = page.getByRole('checkbox', { name: /^Embeds enabled/ });
    await page.getByText('Public files get an embed page /v/:id').waitFor(WAIT);
    await embeds.uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Embeds enabled: on → off').waitFor(WAIT);
    expect((await api('GET', '/api/settings', undefined, session)).body.embeds_enabled).toBe(false);
    await embeds.check();

    // Back to defaults, so the integrations below get public links on this server.
    await page.getByLabel(/Public —/).check();
    await page.getByLabel('Public URL base').fill('');
    await page.getByLabel('Default expiry of new uploads').selectOption({ label: 'Never' });
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Default visibility: private → public').waitFor(WAIT);
    expect((await api('GET', '/api/settings', undefined, session)).body).toMatchObject({ default_is_public: true, public_url_base: null, default_expires_in: null, embeds_enabled: true });
  });
});

describe('request log page', () => {
  test('filters by status class and method, pages with the cursor, copies a request id', async () => {
    // More than one page (50) of this account's requests, and one 404 to find.
    for (let i = 0; i < 55; i++) expect((await api('GET', '/api/usage', undefined, session)).status).toBe(200);
    const missing = await api('GET', '/api/files/nosuchfile00', undefined, { ...session, headers: { 'x-request-id': 'h6a-missing-file-0001' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('h6a-missing-file-0001');
    expect((await api('GET', '/api/files/nosuchfile01', undefined, session)).status).toBe(404);
    // Entries are written in batches: wait until the 404 is readable through the API.
    for (;;) {
      const r = await api('GET', '/api/logs?status=404', undefined, session);
      if ((r.body.results as unknown[]).length >= 2) break;
      await Bun.sleep(200);
    }

    await page.goto(`${base}/logs`);
    await page.getByRole('heading', { name: 'Request log', level: 1 }).waitFor(WAIT);
    const rows = page.locator('table.logs tbody tr');
    await rows.first().waitFor(WAIT);
    await expect(rows.count()).resolves.toBe(50);
    await page.getByRole('button', { name: 'Show older requests' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length > 50, null, WAIT);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'request-log');
    expect(await axeProblems(page)).toEqual([]);

    await page.getByLabel('Status').selectOption('4xx');
    await page.waitForURL(/\/logs\?status=4xx$/, WAIT);
    await page.waitForFunction(() => [...document.querySelectorAll('table.logs tbody tr')].every((r) => /\b4\d\d\b/.test(r.querySelector('.badge')?.textContent ?? '')), null, WAIT);
    const fourxx = (await api('GET', '/api/logs?status=4xx', undefined, session)).body as { count: number; results: { id: string; path: string; request_id: string }[] };
    await page.getByText(new RegExp(`^${fourxx.count} requests?`)).waitFor(WAIT);
    await page.locator('table.logs').getByText('/api/files/nosuchfile00').first().waitFor(WAIT);
    // A server-made id (a UUID) is shortened on screen and copied whole.
    const other = fourxx.results.find((r) => r.request_id !== 'h6a-missing-file-0001')!;
    expect(other.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const button = page.getByRole('button', { name: `Copy request id ${other.request_id}`, exact: true });
    await expect(button.textContent()).resolves.toContain(`${other.request_id.slice(0, 8)}…`);
    await button.click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(other.request_id);

    await page.getByLabel('Method').selectOption('DELETE');
    await page.waitForURL(/status=4xx&method=DELETE$/, WAIT);
    await page.waitForFunction(() => [...document.querySelectorAll('table.logs tbody tr .method')].every((m) => m.textContent === 'DELETE'), null, WAIT);

    await page.getByLabel('Method').selectOption('GET');
    await page.locator('table.logs').getByText('/api/files/nosuchfile00').first().waitFor(WAIT);
    // The X-Request-Id the call was answered with is the copied id.
    const missingEntry = fourxx.results.find((r) => r.path === '/api/files/nosuchfile00')!;
    expect(missingEntry.request_id).toBe('h6a-missing-file-0001');
    await page.getByRole('button', { name: 'Copy request id h6a-missing-file-0001', exact: true }).click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe('h6a-missing-file-0001');

    // A time after every entry: nothing left.
    await page.getByLabel('Since').fill(new Date(Date.now() + 3_600_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
    await page.getByText('No requests match these filters.').waitFor(WAIT);
    expect(page.url()).toContain('since=');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await rows.first().waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
  });

  test('"Made with" keeps one API key\'s requests, or the sessions\' (the app\'s own calls flood the rest)', async () => {
    const created = await api('POST', '/api/auth/api-keys', { name: 'nightly sync', scopes: ['files:read'] }, session);
    expect(created.status).toBe(201);
    const { key, key_prefix: prefix } = created.body as { key: string; key_prefix: string };
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/api/files/keyedmissing${i}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
    for (;;) {
      const r = await api('GET', `/api/logs?credential=${prefix}`, undefined, session);
      if ((r.body.results as unknown[]).length >= 3) break;
      await Bun.sleep(200);
    }
    await page.goto(`${base}/logs`);
    await page.locator('table.logs tbody tr').first().waitFor(WAIT);
    await page.getByLabel('Made with').selectOption({ label: `nightly sync (${prefix}…)` });
    await page.waitForURL(new RegExp(`/logs\\?credential=${prefix}$`), WAIT);
    await page.getByText(/^3 requests$/).waitFor(WAIT);
    await expect(page.locator('table.logs tbody tr').count()).resolves.toBe(3);
    for (const by of await page.locator('table.logs tbody td[data-label="By"]').allTextContents()) expect(by).toBe(`${prefix}…`);
    await page.getByLabel('Made with').selectOption('session');
    await page.waitForURL(/credential=session$/, WAIT);
    await page.waitForFunction(() => {
      const by = [...document.querySelectorAll('table.logs tbody td[data-label="By"]')].map((td) => td.textContent);
      return by.length > 0 && by.every((t) => t === 'session');
    }, null, WAIT);
    expect(await axeProblems(page)).toEqual([]);
  });

  test('an address whose since= is no date shows the refusal and a way back, not a blank page', async () => {
    const errors: string[] = [];
    const onError = (e: Error) => void errors.push(e.message);
    page.on('pageerror', onError);
    try {
      // `new Date('yesterday').toISOString()` threw while rendering the Since field ("Invalid time value").
      await page.goto(`${base}/logs?since=yesterday`);
      await page.getByRole('heading', { name: 'Request log', level: 1 }).waitFor(WAIT);
      await page.getByRole('alert').filter({ hasText: /since/i }).waitFor(WAIT);
      await expect(page.getByLabel('Since').inputValue()).resolves.toBe('');
      await expect(page.getByText('Loading…').count()).resolves.toBe(0); // refused, not loading
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.locator('table.logs tbody tr').first().waitFor(WAIT);
      expect(errors).toEqual([]);
    } finally {
      page.off('pageerror', onError);
    }
  });
});

/** Resolves ShareX's `{json:a.b}` references against an answer, as ShareX does. */
function sharexTemplate(template: string, answer: unknown): string {
  return template.replace(/\{json:([^}]+)\}/g, (_, path: string) => {
    let v: unknown = answer;
    for (const part of path.split('.')) v = (v as Record<string, unknown> | null)?.[part];
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`{json:${path}} is not in the answer ${JSON.stringify(answer)}`);
    return String(v);
  });
}

async function keysNamed(prefix: string): Promise<{ name: string; scopes: string[] }[]> {
  const list = await api('GET', '/api/auth/api-keys', undefined, session);
  return (list.body.results as { name: string; scopes: string[] }[]).filter((k) => k.name.startsWith(prefix));
}

describe('integrations page', () => {
  test('#21.5 the .sxcu performed as ShareX would uploads an image and returns a URL that serves it', async () => {
    await page.goto(`${base}/integrations`);
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the .sxcu file' }).click()]);
    expect(dl.suggestedFilename()).toBe('pictor-localhost.sxcu');
    const sxcu = JSON.parse(readFileSync((await dl.path())!, 'utf8')) as {
      Version: string; RequestMethod: string; RequestURL: string; Body: string; FileFormName: string;
      Headers: Record<string, string>; Arguments: Record<string, string>; URL: string; DeletionURL: string; ErrorMessage: string; DestinationType: string;
    };
    await page.getByText(/Downloaded\. It holds the new key/).waitFor(WAIT);
    await shot(page, 'integrations');

    expect(sxcu).toMatchObject({ RequestMethod: 'POST', RequestURL: `${base}/api/files`, Body: 'MultipartFormData', FileFormName: 'file', DestinationType: 'ImageUploader, FileUploader' });
    expect(await keysNamed('ShareX uploader')).toEqual([expect.objectContaining({ scopes: ['files:write'] })]);

    // ShareX: a multipart body with the Arguments as fields and the file under FileFormName.
    const bytes = await image(7);
    const form = new FormData();
    for (const [k, v] of Object.entries(sxcu.Arguments)) form.append(k, v);
    form.append(sxcu.FileFormName, new File([new Uint8Array(bytes)], 'Screenshot 2026-12-03.png', { type: 'image/png' }));
    const res = await fetch(sxcu.RequestURL, { method: sxcu.RequestMethod, headers: sxcu.Headers, body: form });
    const answer = await res.json();
    expect(res.status).toBe(201);
    const url = sharexTemplate(sxcu.URL, answer);
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    expect((answer as { file: { folder: string } }).file.folder).toBe('/screenshots');

    // The deletion URL opens the file's page, where a signed-in owner deletes it.
    const deletion = sharexTemplate(sxcu.DeletionURL, answer);
    expect(deletion).toBe(`${base}/files/${(answer as { file: { id: string } }).file.id}`);
    await page.goto(deletion);
    await page.getByRole('button', { name: 'Delete file', exact: true }).waitFor(WAIT);
    // A refusal is reported through ErrorMessage.
    const bad = await fetch(sxcu.RequestURL, { method: 'POST', headers: sxcu.Headers, body: (() => { const f = new FormData(); f.append('file', new File(["not an image at all"], 'x.exe', { type: 'application/x-msdownload' })); return f; })() });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(sharexTemplate(sxcu.ErrorMessage, await bad.json()).length).toBeGreaterThan(0);
  });

  test('#21.5 the Flameshot script uploads a file with real curl and prints a URL that serves it (with jq and without)', async () => {
    await page.goto(`${base}/integrations`);
    await page.getByLabel('Folder').fill('/desk');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download pictor-upload.sh' }).click()]);
    expect(dl.suggestedFilename()).toBe('pictor-upload.sh');
    const dir = join(tmpdir(), `pictor-flameshot-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'pictor-upload.sh');
    await dl.saveAs(script);
    expect(await keysNamed('Flameshot uploader')).toEqual([expect.objectContaining({ scopes: ['files:write'] })]);
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);

    // No jq on this PATH: the script falls back to grep.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['curl', 'grep', 'head', 'cut', 'mktemp', 'rm']) symlinkSync(spawnSync('bash', ['-c', `command -v ${tool}`]).stdout.toString().trim(), join(bin, tool));
    const env = { HOME: dir, PATH: '/usr/bin:/bin' };
    for (const [i, path] of [env.PATH, bin].entries()) {
      const bytes = await image(20 + i);
      const file = join(dir, `capture ${i}.png`);
      writeFileSync(file, bytes);
      const run = spawnSync('/bin/bash', [script, file], { env: { ...env, PATH: path }, encoding: 'utf8' });
      expect(run.stderr).toContain(`Delete it at: ${base}/files/`);
      expect(run.status).toBe(0);
      const url = run.stdout.trim();
      expect(url).toMatch(new RegExp(`^${base}/i/[A-Za-z0-9_-]+\\.png$`));
      const served = await fetch(url);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    }
    const listed = await api('GET', '/api/files?folder=/desk', undefined, session);
    expect((listed.body.results as { name: string }[]).map((f) => f.name).sort()).toEqual(['capture 0.png', 'capture 1.png']);
    // A refused upload: the script says why and fails.
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from('MZ not an image'));
    const failed = spawnSync('/bin/bash', [script, junk], { env, encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('Upload failed:');
    expect(failed.stdout).toBe('');
  });

  test('presigned browser upload guide: a URL made on the page takes one upload from another origin', async () => {
    await page.goto(`${base}/integrations`);
    await page.getByRole('link', { name: 'How presigned uploads work' }).click();
    await page.getByRole('heading', { name: 'Presigned browser uploads' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Make a presigned URL' }).click();
    const url = await page.getByLabel(/^Upload URL/).inputValue();
    expect(url).toContain('/api/uploads/');
    // The examples copy with a button (they had to be selected by hand).
    await page.getByRole('button', { name: 'Copy Server side: curl' }).click();
    await page.locator('#presign-curl-state').filter({ hasText: 'Copied' }).waitFor(WAIT);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain(`curl -s -X POST ${base}/api/uploads/presign`);
    await shot(page, 'browser-upload');
    expect(await axeProblems(page)).toEqual([]);
    const bytes = await image(40);
    const form = new FormData();
    form.append('file', new File([new Uint8Array(bytes)], 'from-site.png', { type: 'image/png' }));
    const res = await fetch(url, { method: 'POST', body: form, headers: { origin: 'https://shop.example' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await res.json()) as { file: { folder: string } }).file.folder).toBe('/from-my-site');
  });
});

describe('every page of #21 at 360 px and in dark mode', () => {
  test('no horizontal overflow on a phone; axe passes in dark mode; keys screenshot for the README', async () => {
    await page.goto(`${base}/keys`);
    await keyItem('phone uploads').waitFor(WAIT);
    await shot(page, 'keys');
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const [path, ready] of [['/keys', '.key'], ['/settings', '#upload-limit'], ['/logs', '.table-wrap'], ['/integrations', '.tool']] as const) {
      await page.goto(`${base}${path}`);
      await page.locator(ready).first().waitFor(WAIT);
      expect(await axeProblems(page)).toEqual([]);
    }
    await page.goto(`${base}/keys`);
    await keyItem('phone uploads').waitFor(WAIT);
    await shot(page, 'keys-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 780 });
    for (const [path, ready] of [['/keys', '.key'], ['/settings', '#upload-limit'], ['/logs', '.table-wrap'], ['/integrations', '.tool']] as const) {
      await page.goto(`${base}${path}`);
      await page.locator(ready).first().waitFor(WAIT);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect([path, width]).toEqual([path, Math.min(width, 360)]);
    }
    await page.goto(`${base}/keys`);
    await shot(page, 'keys-360');
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});

test('Where you are signed in: the account\'s browsers and apps, one signed out from another, everywhere after a question', async () => {
  const email = `devices-${Date.now().toString(36)}@example.com`;
  const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  const reg = await api('POST', '/api/auth/register', { email, password: 'correct horse 1' }, { headers: { 'user-agent': chrome } });
  expect({ status: reg.status, body: reg.body }).toMatchObject({ status: 201 });
  const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
  const phoneLogin = await api('POST', '/api/auth/login', { email, password: 'correct horse 1' }, { headers: { 'user-agent': iphone } });
  expect({ status: phoneLogin.status, body: phoneLogin.body }).toMatchObject({ status: 200 });
  const contextFor = async (headers: Headers, viewport: { width: number; height: number }) => {
    const c = await browser.newContext({ viewport });
    await c.addCookies(Object.entries(cookiesOf(headers).map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
    return c;
  };
  const desk = await contextFor(reg.headers, { width: 1280, height: 860 });
  const phone = await contextFor(phoneLogin.headers, { width: 375, height: 740 });
  const mine = await desk.newPage();
  await mine.goto(`${base}/account`);
  const list = mine.getByRole('list', { name: 'Signed-in sessions' });
  await list.getByText('Safari on iPhone', { exact: true }).waitFor(WAIT);
  expect(await list.getByRole('listitem').allTextContents()).toHaveLength(2);
  // This browser first, with no Sign out of its own (Sign out in the header does that).
  expect(await list.getByRole('listitem').first().textContent()).toMatch(/^Chrome on LinuxThis browser/);
  expect(await list.getByRole('listitem').filter({ hasText: 'This browser' }).getByRole('button').count()).toBe(0);
  expect(await axeProblems(mine)).toEqual([]);
  await shot(mine, 'account-sessions');

  // The phone is signed out from the desk; its next page is the sign-in page, which says why.
  const onPhone = await phone.newPage();
  await onPhone.goto(`${base}/settings`);
  await onPhone.getByRole('heading', { name: 'Settings' }).waitFor(WAIT);
  await list.getByRole('button', { name: /^Sign out Safari on iPhone/ }).click();
  await mine.getByText('Safari on iPhone was signed out.').waitFor(WAIT);
  expect(await list.getByRole('listitem').count()).toBe(1);
  await onPhone.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Usage' }).click();
  await onPhone.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
  await onPhone.getByText(/^You were signed out: your session ended/).waitFor(WAIT);
  // Once said: a reload is a plain sign-in page, with no 401 on the way (the readable cookie went with the session).
  const unauthorised: string[] = [];
  onPhone.on('response', (r) => void (r.status() === 401 && unauthorised.push(r.url())));
  await onPhone.reload();
  await onPhone.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
  expect([await onPhone.getByText(/^You were signed out/).count(), unauthorised]).toEqual([0, []]);

  // Everywhere asks first: declined, nothing happens; accepted, this browser is signed out too.
  const asked = mine.getByRole('dialog', { name: 'Sign out everywhere?' });
  await mine.getByRole('button', { name: 'Sign out everywhere' }).click();
  await asked.getByRole('button', { name: 'Cancel' }).click();
  await asked.waitFor({ ...WAIT, state: 'detached' });
  expect((await api('GET', '/api/profile', undefined, { cookie: cookiesOf(reg.headers).header })).status).toBe(200);
  await mine.getByRole('button', { name: 'Sign out everywhere' }).click();
  await asked.getByRole('button', { name: 'Sign out everywhere' }).click();
  await mine.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
  expect((await api('GET', '/api/profile', undefined, { cookie: cookiesOf(reg.headers).header })).status).toBe(401);
  await desk.close();
  await phone.close();
});
