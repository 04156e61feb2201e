/**
 * A job's status changed by the live feed swaps its row's buttons (Cancel → Retry and Delete,
 * Retry → Cancel). A button that held the focus went with them and the focus fell to <body>;
 * the row keeps it. No queue worker runs here, so a job changes only when this test changes it.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { useAdminFixture } from './admin-fixture';
import { png } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const fx = useAdminFixture({ QUEUE_CONCURRENCY: '0' });

/** The focused element's text and the job row it sits in, or `body`. */
const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  return `${el.closest('tr[data-job]')?.getAttribute('data-job') ?? '-'}:${(el.textContent ?? '').trim()}`;
});

describe('jobs: a live status change', () => {
  test('keeps the focus in the row whose buttons it swapped', async () => {
    const me = await fx.signUp('live-focus');
    const file = await me.upload('still.png', 'image/png', (await png('still.png', 40, 30)).bytes);
    const jobs = await fx.api('GET', `/api/queue/jobs?status=pending`, undefined, { headers: me.auth });
    expect(jobs.status).toBe(200);
    const job = (jobs.body.results as { id: string; file_id: string | null }[]).find((j) => j.file_id === file.id);
    expect(job).toBeDefined();
    const id = job!.id;

    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${fx.base}/jobs`);
    await page.locator('.live', { hasText: /^Live$/ }).waitFor(WAIT); // the feed is open: its events reach the page
    const row = page.locator(`tr[data-job="${id}"]`);
    await row.getByRole('button', { name: 'Cancel' }).focus();
    expect(await focused(page)).toBe(`${id}:Cancel`);

    // Cancelled elsewhere (another tab, a script): the row's Cancel gives way to Retry and Delete.
    expect((await fx.api('POST', `/api/queue/jobs/${id}/cancel`, undefined, { headers: me.auth })).status).toBe(200);
    await page.locator(`tr[data-job="${id}"][data-status="cancelled"]`).waitFor(WAIT);
    await page.waitForFunction(() => document.activeElement !== document.body, null, WAIT).catch(() => undefined);
    expect(await focused(page)).toBe(`${id}:Retry`);

    // Queued again elsewhere: Retry gives way to Cancel.
    expect((await fx.api('POST', `/api/queue/jobs/${id}/retry`, undefined, { headers: me.auth })).status).toBe(200);
    await page.locator(`tr[data-job="${id}"][data-status="pending"]`).waitFor(WAIT);
    await page.waitForFunction(() => document.activeElement !== document.body, null, WAIT).catch(() => undefined);
    expect(await focused(page)).toBe(`${id}:Cancel`);
    await context.close();
  });
});
