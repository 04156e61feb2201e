/**
 * An export is only as alive as its `account_export` job: cancelled, deleted or failed for good,
 * it no longer holds the account's one export slot (it used to for 24 h, answering 409), and its
 * status says why. Also the export list's paging and the download link's 400 for a cut link.
 * In-process, with no queue worker (QUEUE_CONCURRENCY=0), so every job stays pending until acted on.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { jobs } from '../../src/modules/queue/table';
import { makeTestApp, type TestApp } from '../helpers/app';
import { DB_BACKENDS } from '../helpers/services';
import { seedUser, type SeededUser } from '../helpers/seed';
import { createApiKey } from '../../src/modules/keys/service';

interface ExportJson { id: string; status: string; job_id: string; error: string | null; finished_at: string | null }

describe.each(DB_BACKENDS)('account exports on %s', (db) => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: { QUEUE_CONCURRENCY: '0', DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => h?.close());

  const as = (u: SeededUser, init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${u.key}` } });
  async function startExport(u: SeededUser): Promise<ExportJson> {
    const res = await h.request('/api/account/export', as(u, { method: 'POST' }));
    expect(res.status).toBe(202);
    return (await res.json()) as ExportJson;
  }
  const statusOf = async (u: SeededUser, id: string) => (await (await h.request(`/api/account/exports/${id}`, as(u))).json()) as ExportJson;

  describe('an export whose job will never run is not active', () => {
    test('job cancelled: the export says cancelled with the reason, and a new export starts at once', async () => {
      const u = await seedUser(h.deps);
      const first = await startExport(u);
      expect((await h.request('/api/account/export', as(u, { method: 'POST' }))).status).toBe(409);
      expect((await h.request(`/api/queue/jobs/${first.job_id}/cancel`, as(u, { method: 'POST' }))).status).toBe(200);
      const after = await statusOf(u, first.id);
      expect([after.status, after.error]).toEqual(['cancelled', expect.stringContaining('cancelled') as unknown as string]);
      expect(after.finished_at).not.toBeNull();
      const second = await startExport(u);
      expect(second.id).not.toBe(first.id);
      // The new one is the active one now: the slot is taken again.
      expect((await h.request('/api/account/export', as(u, { method: 'POST' }))).status).toBe(409);
    });

    test('job cancelled then deleted: no export left pointing at a missing job', async () => {
      const u = await seedUser(h.deps);
      const first = await startExport(u);
      expect((await h.request(`/api/queue/jobs/${first.job_id}/cancel`, as(u, { method: 'POST' }))).status).toBe(200);
      expect((await h.request(`/api/queue/jobs/${first.job_id}`, as(u, { method: 'DELETE' }))).status).toBe(204);
      // Nothing read the export in between: the 409 check itself judges it by its (missing) job.
      await startExport(u);
      const list = (await (await h.request('/api/account/exports', as(u))).json()) as { results: ExportJson[] };
      const old = list.results.find((e) => e.id === first.id)!;
      expect(old.status).toBe('cancelled');
    });

    test('job deleted without a status read: the export says its job was deleted', async () => {
      const u = await seedUser(h.deps);
      const first = await startExport(u);
      // As another process would: the job row goes (a finished job deleted through the API).
      await h.deps.db.update(jobs).set({ status: 'cancelled', finishedAt: new Date() }).where(eq(jobs.id, first.job_id));
      await h.deps.db.delete(jobs).where(eq(jobs.id, first.job_id));
      const after = await statusOf(u, first.id);
      expect(after.status).toBe('cancelled');
      expect(after.error).toContain('deleted');
      await startExport(u);
    });

    test('job failed for good: the export says failed with the job\'s error', async () => {
      const u = await seedUser(h.deps);
      const first = await startExport(u);
      // A worker that died on the last attempt: the job failed without the handler recording it.
      await h.deps.db.update(jobs).set({ status: 'failed', attempts: 3, lastError: 'disk on fire', finishedAt: new Date() }).where(eq(jobs.id, first.job_id));
      const after = await statusOf(u, first.id);
      expect([after.status, after.error]).toEqual(['failed', 'Its job failed: disk on fire']);
      await startExport(u);
    });

    test('a job still pending (or retrying) keeps the export active', async () => {
      const u = await seedUser(h.deps);
      const first = await startExport(u);
      await h.deps.db.update(jobs).set({ attempts: 1, lastError: 'transient' }).where(eq(jobs.id, first.job_id));
      expect((await statusOf(u, first.id)).status).toBe('pending');
      expect((await h.request('/api/account/export', as(u, { method: 'POST' }))).status).toBe(409);
    });
  });

  test('another account\'s export: 404, also for an admin\'s key without the admin scope; an admin with it sees it', async () => {
    const u = await seedUser(h.deps);
    const theirs = await startExport(u);
    const other = await seedUser(h.deps);
    const admin = await seedUser(h.deps, { role: 'admin' });
    // An `account:read` key of an admin read any export, with its download link (a ZIP of that whole account).
    const narrow = { ...admin, key: (await createApiKey(h.deps.db, admin.id, { scopes: ['account:read'] })).key };
    for (const who of [other, narrow]) expect((await h.request(`/api/account/exports/${theirs.id}`, as(who))).status).toBe(404);
    expect((await statusOf(admin, theirs.id)).id).toBe(theirs.id);
  });

  test('the export list pages with limit and cursor; count covers every page', async () => {
    const u = await seedUser(h.deps);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await startExport(u);
      made.push(e.id);
      expect((await h.request(`/api/queue/jobs/${e.job_id}/cancel`, as(u, { method: 'POST' }))).status).toBe(200);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await h.request(`/api/account/exports?limit=2${cursor ? `&cursor=${cursor}` : ''}`, as(u));
      expect(res.status).toBe(200);
      const page = (await res.json()) as { results: ExportJson[]; count: number; next_cursor: string | null };
      expect(page.count).toBe(5);
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...made].sort());
    const all = (await (await h.request('/api/account/exports', as(u))).json()) as { results: ExportJson[]; next_cursor: string | null };
    expect([all.results.length, all.next_cursor]).toEqual([5, null]);
    for (const bad of ['limit=0', 'limit=201', 'cursor=nonsense']) {
      const res = await h.request(`/api/account/exports?${bad}`, as(u));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
    }
  });

  test('a download link missing expires or signature: one sentence naming what is missing', async () => {
    const base = '/api/account/exports/00000000-0000-0000-0000-000000000000/download';
    const cases: [string, string[]][] = [['', ['expires', 'signature']], ['?signature=abc', ['expires']], ['?expires=123', ['signature']]];
    for (const [q, missing] of cases) {
      const res = await h.request(base + q);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; message: string; details: { fields: { path: string }[] } };
      expect(body.error).toBe('VALIDATION_ERROR');
      expect(body.message).toBe(`This download link lacks ${missing.join(' and ')}: use the export's download_url whole (GET /api/account/exports/:id gives it).`);
      expect(body.message).not.toContain('Expected');
      expect(body.details.fields.map((f) => f.path)).toEqual(missing.map((m) => `/${m}`));
    }
  });
});
