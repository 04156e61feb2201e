/**
 * The jobs and usage pages in Chromium (issue #21 acceptance 3, 4, 6, 7). The server runs on
 * Postgres with `QUEUE_CONCURRENCY=0` (no worker in the API process), so an upload's `derive`
 * job is observably pending until the test starts a worker process (`src/worker.ts`, same
 * database and data directory): the open jobs page shows it go from pending to completed
 * over the SSE stream, with no reload, although the stream dropped while the job ran: the page
 * resumes from the last event it saw (`last_event_id`). Then the usage page renders its gauges and charts from
 * the real counters the uploads, renders and origin reads produced, and the numbers on the
 * page are read back against `GET /api/usage`. axe on both pages; the README's usage screenshot.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { gradient, quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { axeProblems, launch, shot } from './browser';

setDefaultTimeout(240_000);
const WAIT = { timeout: 60_000 };
const ROOT = resolve(import.meta.dir, '../..');
const SCREENSHOTS = resolve(ROOT, 'docs/screenshots');

let db: TestDatabase;
let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let worker: ChildProcess | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: db.url, QUEUE_CONCURRENCY: '0', RATE_LIMIT_REGISTER: '100/1h' } });
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
}, 120_000);
afterAll(async () => {
  worker?.kill('SIGKILL');
  await browser?.close();
  await server?.close();
  await db?.drop();
});

/** A queue worker process on the server's database and files; resolves once it claims jobs. */
function startWorker(): Promise<ChildProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|DATA_DIR|QUEUE_|REDIS_URL|PORT)/.test(k)));
  const proc = spawn(process.execPath, ['src/worker.ts'], {
    cwd: ROOT,
    env: { ...inherited, DATABASE_URL: db.url, DATA_DIR: server.dataDir, QUEUE_CONCURRENCY: '2', QUEUE_POLL_MS: '100', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker = proc;
  let out = '';
  return new Promise((res, rej) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"worker started"')) res(proc);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => rej(new Error(`worker exited with ${code}:\n${out}`)));
  });
}

async function register(): Promise<{ context: BrowserContext; bearer: string }> {
  const res = await api('POST', '/api/auth/register', { email: `meter-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { map } = cookiesOf(res.headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return { context, bearer: res.body.session.access_token as string };
}

async function upload(bearer: string, name: string, bytes: Buffer): Promise<{ id: string; url: string }> {
  const res = await fetch(`${server.url}/api/files`, { method: 'POST', body: new Uint8Array(bytes), headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/png', 'x-file-name': name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string; url: string } }).file;
}

let account: { context: BrowserContext; bearer: string };
let fileIds: string[] = [];

describe('jobs and usage pages', () => {
  test("the jobs page shows an upload's derive job go from pending to completed without a reload, across a dropped stream (#21.3)", async () => {
    account = await register();
    // Keeps the page's EventSources reachable, so the test can drop the stream.
    await account.context.addInitScript(() => {
      const Native = window.EventSource;
      const w = window as unknown as { __sources: EventSource[]; EventSource: typeof EventSource };
      w.__sources = [];
      w.EventSource = class extends Native {
        constructor(url: string | URL, init?: EventSourceInit) {
          super(url, init);
          w.__sources.push(this);
        }
      };
    });
    const page = await account.context.newPage();
    await page.goto(`${base}/jobs`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    // A marker that a reload would wipe.
    await page.evaluate(() => ((window as unknown as { __stay: number }).__stay = 1));

    const file = await upload(account.bearer, 'sunset.png', await quadrants(640, 480).png().toBuffer());
    fileIds.push(file.id);
    const row = page.locator('tr', { has: page.locator(`a[href="/files/${file.id}"]`) });
    await row.and(page.locator('[data-status="pending"]')).waitFor(WAIT);
    expect(await row.getByText('Pending', { exact: true }).count()).toBe(1);
    expect(await axeProblems(page)).toEqual([]);

    // The stream drops while the job runs and completes (the test closes the page's EventSource,
    // as a refused reconnect would); when the page notices, it resumes from the last event it saw
    // (`?last_event_id=`) and shows the completion it missed.
    await page.evaluate(() => (window as unknown as { __sources: EventSource[] }).__sources.at(-1)!.close());
    await startWorker();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const jobs = await api('GET', '/api/queue/jobs', undefined, { bearer: account.bearer });
      if (jobs.body.results.find((j: { file_id: string }) => j.file_id === file.id)?.status === 'completed') break;
      if (Date.now() > deadline) throw new Error('the derive job did not complete');
      await Bun.sleep(100);
    }
    expect(await row.getAttribute('data-status')).toBe('pending');
    await page.evaluate(() => (window as unknown as { __sources: EventSource[] }).__sources.at(-1)!.dispatchEvent(new Event('error')));
    await row.and(page.locator('[data-status="completed"]')).waitFor(WAIT);
    expect(await page.evaluate(() => (window as unknown as { __sources: EventSource[] }).__sources.at(-1)!.url)).toContain('last_event_id=');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    expect(await row.getByText('Completed', { exact: true }).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __stay?: number }).__stay)).toBe(1);
    const listed = await api('GET', '/api/queue/jobs', undefined, { bearer: account.bearer });
    expect(listed.body.results.find((j: { file_id: string }) => j.file_id === file.id)?.status).toBe('completed');
    // The listed job names its file (the page showed the file's id alone).
    expect(listed.body.results.find((j: { file_id: string }) => j.file_id === file.id)?.file_name).toBe('sunset.png');
    await page.reload();
    await row.getByRole('link', { name: 'sunset.png' }).waitFor(WAIT);
    await shot(page, 'jobs');
    // The finished job can be deleted from the page.
    await row.getByRole('button', { name: /^Delete job/ }).click();
    await page.getByText('Job deleted.').waitFor(WAIT);
    expect(await row.count()).toBe(0);
  });

  test('usage gauges and charts show the real counters after uploads and transforms (#21.4, #21.6, #21.7)', async () => {
    const { bearer, context } = account;
    for (const [i, bytes] of [await gradient(800, 600).png().toBuffer(), await quadrants(300, 300).png().toBuffer()].entries()) {
      fileIds.push((await upload(bearer, `photo-${i}.png`, bytes)).id);
    }
    // Every derive job done, then the worker stopped gracefully: its counters are written as it exits.
    const idle = async () => {
      const st = (await api('GET', '/api/queue/stats', undefined, { bearer })).body;
      return st.pending + st.running === 0;
    };
    const deadline = Date.now() + 60_000;
    while (!(await idle())) {
      if (Date.now() > deadline) throw new Error('derive jobs did not finish');
      await Bun.sleep(100);
    }
    const exited = new Promise((r) => worker!.once('exit', r));
    worker!.kill('SIGTERM');
    await exited;
    worker = null;
    const usage = async () => (await api('GET', '/api/usage', undefined, { bearer })).body;
    const before = await usage();
    // Origin reads and image operations in this process: each original once, two new renditions each.
    for (const id of fileIds) {
      expect((await fetch(`${server.url}/i/${id}`)).status).toBe(200);
      for (const t of ['w_64', 'w_96,h_96,c_fill']) expect((await fetch(`${server.url}/t/${t}/${id}`)).status).toBe(200);
    }
    // Counters are written in batches (every few seconds): wait for exactly these.
    const until = Date.now() + 60_000;
    let u = await usage();
    while (!(u.origin_reads === before.origin_reads + 3 && u.image_ops === before.image_ops + 6)) {
      if (Date.now() > until) throw new Error(`usage never caught up: ${JSON.stringify({ before, now: u })}`);
      await Bun.sleep(200);
      u = await usage();
    }
    expect(u.files_count).toBe(3);
    const history = await api('GET', '/api/usage/history?months=12', undefined, { bearer });
    expect(history.status).toBe(200);
    const today = history.body.days.at(-1);
    expect(today.uploads).toBe(3);

    const page = await context.newPage();
    await page.goto(`${base}/usage`);
    await page.locator('[data-metric="image_ops"]').waitFor(WAIT);
    const after = await usage(); // nothing delivers in between: the page and this answer agree
    const text = async (sel: string) => (await page.locator(sel).textContent())?.trim();
    expect(await text('[data-metric="image_ops"]')).toBe(after.image_ops.toLocaleString('en'));
    expect(await text('[data-metric="origin_reads"]')).toBe(after.origin_reads.toLocaleString('en'));
    expect(await text('[data-metric="uploads"]')).toBe('3');
    expect(Number(await page.locator('[data-metric="bytes_served"]').getAttribute('data-value'))).toBe(after.bytes_served);
    expect(Number(await page.locator('[data-chart-total="image_ops"]').getAttribute('data-value'))).toBe(after.image_ops);
    expect(Number(await page.locator('[data-chart-total="storage_bytes"]').getAttribute('data-value'))).toBe(after.storage_bytes);
    expect(await page.getByTestId('gauge-files').textContent()).toBe(String(after.files_count));
    expect(await page.getByRole('img', { name: /^Storage: .* of .*%\)$/ }).count()).toBe(1);
    // Today's bar in each chart carries today's number (its tooltip), one bar per day so far.
    const day = String(Number(today.day.slice(8)));
    const days = history.body.days.length;
    expect(await page.locator('#chart-uploads rect.bar').count()).toBe(days);
    expect(await page.locator('#chart-uploads rect.bar').last().locator('title').textContent()).toBe(`${day}: 3 uploads`);
    expect(await page.locator('#chart-image_ops rect.bar').last().locator('title').textContent()).toBe(`${day}: ${after.image_ops} image operations`);
    // The plan's rate limits as a table.
    expect(await page.getByRole('cell', { name: 'upload_count' }).count()).toBe(1);
    expect(await axeProblems(page)).toEqual([]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}/webapp-usage.png`, fullPage: true });

    await page.getByRole('button', { name: 'By month' }).click();
    expect(await page.locator('#chart-uploads rect.bar').count()).toBe(12);
    expect(Number(await page.locator('[data-chart-total="uploads"]').getAttribute('data-value'))).toBe(3);
    expect(await axeProblems(page)).toEqual([]);

    // The previous month by day: every day of it, nothing happened then.
    const [y, m] = today.day.split('-').map(Number) as [number, number];
    const prev = new Date(Date.UTC(y, m - 2, 1));
    const prevKey = prev.toISOString().slice(0, 7);
    await page.getByLabel('Month shown by day').selectOption(prevKey);
    await page.getByRole('heading', { name: /^In / }).waitFor(WAIT);
    expect(await page.locator('#chart-uploads rect.bar').count()).toBe(new Date(Date.UTC(y, m - 1, 0)).getUTCDate());
    expect(await text('[data-metric="image_ops"]')).toBe('0');
    expect(await text('[data-metric="uploads"]')).toBe('0');

    // On a phone the charts keep readable labels (the wide storage chart drew them about 3 px tall),
    // and the section tabs are one row (they wrapped to three, a quarter of the screen).
    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByRole('button', { name: 'By day' }).click();
    await page.locator('#chart-storage_bytes text.axis').first().waitFor(WAIT);
    await page.waitForFunction(() => {
      const heights = [...document.querySelectorAll('.chart text.axis')].map((t) => t.getBoundingClientRect().height);
      return heights.length > 0 && Math.min(...heights) >= 10;
    }, null, WAIT);
    const tabs = await page.getByRole('navigation', { name: 'Sections' }).boundingBox();
    expect(tabs!.height).toBeLessThan(60);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });
});
