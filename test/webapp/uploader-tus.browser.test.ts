/**
 * Issue #22: the web app's own uploader uses tus when the server offers it, so a browser upload
 * survives a network drop. In Chromium, signed in with the cookie session: a 24 MiB file is
 * picked with a folder and private visibility chosen, the upload is slowed (so it is surely
 * mid-way), the browser goes offline (`context.setOffline`), the job says it waits for the
 * connection, the browser comes back online, and the upload resumes from the server's offset (a
 * HEAD, then PATCHes from a non-zero offset, never a second creation) and completes: the stored
 * file has the source's sha256, size, folder and visibility.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';
import { launch, shot } from './browser';

setDefaultTimeout(240_000);
const WAIT = { timeout: 60_000 };
const MiB = 1024 * 1024;

let smtp: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;
let dir: string;
let api: ReturnType<typeof createClient>;

beforeAll(async () => {
  smtp = await startSmtpSink();
  server = await startServer({ env: { SMTP_URL: smtp.url }, timeoutMs: 180_000 });
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
  dir = await mkdtemp(join(tmpdir(), 'pictor-tus-web-'));
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Text (sniffed as text/plain) that differs along the file, so a misplaced chunk changes the digest. */
function letters(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 31 + (i >> 10)) % 26);
  return b;
}

/** A new account signed in through its cookies in a fresh browser context. */
async function signedIn(prefix: string) {
  const res = await api('POST', '/api/auth/register', { email: `${prefix}-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header: cookie, map } = cookiesOf(res.headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return { cookie, context };
}

describe('web app uploader over tus', () => {
  test('an offline period mid-upload: the upload resumes from the server offset and completes with the right sha256', async () => {
    const { cookie, context } = await signedIn('tus-web');
    try {
      const page = await context.newPage();
      const tus: { method: string; offset: string | undefined; online: boolean }[] = [];
      const failed: string[] = [];
      let online = true;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/api/uploads/tus')) tus.push({ method: r.method(), offset: r.headers()['upload-offset'], online });
      });
      page.on('requestfailed', (r) => new URL(r.url()).pathname.startsWith('/api/uploads/tus') && failed.push(r.method()));
      await page.goto(`${base}/`);
      await page.getByText('This folder is empty.').waitFor(WAIT);

      const size = 24 * MiB;
      const bytes = letters(size);
      const path = join(dir, 'resume.txt');
      await writeFile(path, bytes);
      // The existing options go with the upload: a folder and private visibility.
      await page.getByLabel('Folder', { exact: true }).fill('/trips');
      await page.locator('.upload-options select').first().selectOption('private');
      // Slowed so that the drop surely comes mid-upload (Chromium throttles request bodies too).
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * MiB });
      await page.getByLabel('Choose files').setInputFiles(path);

      const job = page.locator('.job', { hasText: 'resume.txt' });
      await page.waitForFunction(() => {
        const p = document.querySelector<HTMLProgressElement>('.job[data-status="uploading"] progress');
        return !!p && p.value > 1024 * 1024;
      }, undefined, { ...WAIT, polling: 100 });
      online = false;
      // The page's own throttling session would override the context's offline emulation: end it first.
      await cdp.detach();
      await context.setOffline(true);
      await job.getByText(/resumes when the connection is back/).waitFor(WAIT);
      await shot(page, 'upload-offline');
      expect(await job.getAttribute('data-status')).toBe('uploading');
      online = true;
      await context.setOffline(false);
      await page.getByText('All uploads finished.').waitFor({ timeout: 180_000 });
      expect(await job.getAttribute('data-status')).toBe('done');

      // Interrupted, then resumed where the server stood: one creation, a HEAD once back online,
      // and PATCHes that continue from a non-zero offset.
      expect(failed.length).toBeGreaterThan(0);
      const after = tus.filter((t) => t.online && tus.indexOf(t) > tus.findIndex((x) => !x.online));
      expect(tus.filter((t) => t.method === 'POST').length).toBe(1);
      expect(after.some((t) => t.method === 'HEAD')).toBe(true);
      expect(after.filter((t) => t.method === 'PATCH').every((t) => Number(t.offset) > 0)).toBe(true);
      expect(after.some((t) => t.method === 'PATCH')).toBe(true);

      const list = await fetch(`${server.url}/api/files?limit=10`, { headers: { cookie } });
      const files = (await list.json()) as { results: { name: string; size: number; sha256: string; folder: string; is_public: boolean; content_type: string }[] };
      expect(files.results).toHaveLength(1);
      expect(files.results[0]).toMatchObject({
        name: 'resume.txt', size, sha256: createHash('sha256').update(bytes).digest('hex'),
        folder: '/trips', is_public: false, content_type: 'text/plain',
      });
    } finally {
      await context.close();
    }
  });

  test('a file the library already holds: the row links to the earlier copy, stays in view and the summary says both are kept', async () => {
    const { cookie, context } = await signedIn('copies');
    try {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.getByText('This folder is empty.').waitFor(WAIT);
      const bytes = letters(64 * 1024);
      await writeFile(join(dir, 'notes.txt'), bytes);
      await writeFile(join(dir, 'other.txt'), letters(65 * 1024));
      await page.getByLabel('Choose files').setInputFiles([join(dir, 'notes.txt'), join(dir, 'other.txt')]);
      await page.getByText('All uploads finished.', { exact: true }).waitFor(WAIT);
      const first = (await (await fetch(`${server.url}/api/files?q=notes`, { headers: { cookie } })).json()) as { results: { id: string }[] };
      expect(first.results).toHaveLength(1);

      // The same bytes again, under another name, into a folder.
      await writeFile(join(dir, 'notes again.txt'), bytes);
      await page.getByLabel('Folder', { exact: true }).fill('/copies');
      await page.getByLabel('Choose files').setInputFiles([join(dir, 'notes again.txt')]);
      await page.getByText('All uploads finished. One was already in your library (both copies are kept).').waitFor(WAIT);
      const row = page.locator('.job', { hasText: 'notes again.txt' });
      expect(await row.isVisible()).toBe(true);
      expect(await row.locator('.job-info').textContent()).toBe('Uploaded · 64 KiB · already in your library as notes.txt');
      expect(await page.locator('.copies').count()).toBe(1); // other.txt and the first notes.txt had no earlier copy
      // Nothing else is folded away (the only finished row is this one): no button offers to show it.
      expect(await page.getByRole('button', { name: /^Show the|^Fold the/ }).count()).toBe(0);
      await shot(page, 'upload-copies');
      await row.getByRole('link', { name: 'notes.txt' }).click();
      await page.waitForURL(`${base}/files/${first.results[0]!.id}`, WAIT);
      // Two equal files sent together: the later one is the copy, not both (each saw the other).
      await page.goBack();
      await page.getByLabel('Choose files').waitFor({ ...WAIT, state: 'attached' });
      const twin = letters(70 * 1024);
      await writeFile(join(dir, 'twin-a.txt'), twin);
      await writeFile(join(dir, 'twin-b.txt'), twin);
      await page.getByLabel('Choose files').setInputFiles([join(dir, 'twin-a.txt'), join(dir, 'twin-b.txt')]);
      await page.getByText('All uploads finished. One was already in your library (both copies are kept).').waitFor(WAIT);
      expect(await page.locator('.copies').count()).toBe(1);
      expect(await page.locator('.job', { has: page.locator('.copies') }).locator('.job-name').textContent()).toMatch(/^twin-[ab]\.txt$/);
      // Both are kept: the upload is never refused or merged for it.
      const both = (await (await fetch(`${server.url}/api/files?sha256=${createHash('sha256').update(bytes).digest('hex')}`, { headers: { cookie } })).json()) as { count: number };
      expect(both.count).toBe(2);
    } finally {
      await context.close();
    }
  });
});
