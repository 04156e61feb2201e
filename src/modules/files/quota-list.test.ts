/**
 * Quota under parallel uploads (acceptance 5) and keyset listing under concurrent inserts
 * (acceptance 7), on PGlite and Postgres, through the real routes in process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { bootstrapAdmin } from '../admin/bootstrap';
import { usageFromTable } from './purge';
import { users } from '../users/table';
import { files } from './table';

describe.each(DB_BACKENDS)('quota and listing on %s', (db) => {
  let h: TestApp;
  let key: string;
  let userId: string;
  let img: Uint8Array<ArrayBuffer>;
  const upload = (body: Uint8Array<ArrayBuffer>) =>
    h.request('/api/files', { method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'image/png' } });

  beforeAll(async () => {
    img = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer());
    // Room for exactly 20 of these images.
    h = await makeTestApp({ db, env: { STORAGE_QUOTA_BYTES: String(img.length * 20 + img.length - 1), DISABLE_RATE_LIMIT: 'true' } });
    const boot = await bootstrapAdmin(h.deps);
    key = boot!.apiKey;
    const [u] = await h.deps.db.select({ id: users.id }).from(users).limit(1);
    userId = u!.id;
  }, 30_000);
  afterAll(() => h.close());

  test('50 parallel uploads near the quota: never exceeded, counters equal the table', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => upload(img)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 507)).toHaveLength(30);
    const refused = (await results.find((r) => r.status === 507)!.json()) as { error: string };
    expect(refused.error).toBe('QUOTA_EXCEEDED');
    const usage = await usageFromTable(h.deps, userId);
    expect(usage.filesCount).toBe(20);
    expect(usage.tableCount).toBe(20);
    expect(usage.storageBytes).toBe(usage.tableBytes);
    expect(usage.storageBytes).toBeLessThanOrEqual(h.deps.config.storageQuotaBytes);
  }, 60_000);

  test('listing 10 000 files visits each exactly once while uploads run', async () => {
    // Make room, then seed rows directly (uploading 10 000 files is not what is under test).
    const ids: string[] = [];
    await h.deps.db.delete(files);
    const base = Date.now() - 3_600_000;
    for (let chunk = 0; chunk < 10; chunk++) {
      const rows = Array.from({ length: 1000 }, (_, i) => {
        const n = chunk * 1000 + i;
        const id = `seed${n.toString().padStart(8, '0')}`;
        ids.push(id);
        // Many identical timestamps: the id must break ties.
        return { id, userId, name: `f${n}.png`, contentType: 'image/png', size: 1, sha256: 'x', storageKey: `${userId}/${id}`, createdAt: new Date(base + Math.floor(n / 7)) };
      });
      await h.deps.db.insert(files).values(rows);
    }
    await h.deps.db.update(users).set({ storageBytes: 0, filesCount: 0 });
    let uploading = true;
    const uploader = (async () => {
      let n = 0;
      while (uploading && n < 15) {
        await upload(img);
        n++;
      }
    })();
    const seen = new Map<string, number>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await h.request(`/api/files?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { results: { id: string }[]; next_cursor: string | null; count: number };
      for (const f of page.results) seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 200);
    uploading = false;
    await uploader;
    for (const id of ids) expect(seen.get(id)).toBe(1);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
