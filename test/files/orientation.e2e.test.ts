/**
 * A phone's portrait photo is stored landscape with EXIF orientation 6. Its file object, its
 * metadata, its embed page's og:image size and its oEmbed answer all give the displayed size
 * (portrait), as `/t` renders it; they gave the coded one, so link previews had the wrong aspect
 * ratio and `<img width height>` from the API shifted the layout. The migration that puts older
 * rows right is checked on a row written the old way, on both database backends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { gradient } from '../helpers/images';
import { makeTestApp } from '../helpers/app';
import { seedFile, seedUser } from '../helpers/seed';
import { DB_BACKENDS } from '../helpers/services';
import { startServer, type RunningServer } from '../helpers/server';
import { until } from '../helpers/until';
import { files } from '../../src/modules/files/table';

/** 400×200 as coded, orientation 6: displayed 200×400. */
const portrait = () => gradient(400, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();

describe('a portrait photo stored with EXIF orientation', () => {
  let srv: RunningServer;
  let auth: Record<string, string>;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
    auth = { authorization: `Bearer ${srv.bootstrap!.api_key}` };
  }, 90_000);
  afterAll(() => srv?.close());

  test('file object, metadata, rendition, embed page and oEmbed all say 200×400', async () => {
    const res = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg', 'x-file-name': 'phone.jpg' }, body: new Uint8Array(await portrait()) });
    expect(res.status).toBe(201);
    const { file } = (await res.json()) as { file: { id: string; width: number; height: number } };
    expect([file.width, file.height]).toEqual([200, 400]);
    const got = (await (await fetch(`${srv.url}/api/files/${file.id}`, { headers: auth })).json()) as { width: number; height: number };
    expect([got.width, got.height]).toEqual([200, 400]);
    // The derive job caches the metadata; the row keeps its displayed size afterwards.
    const meta = await until('metadata', async () => {
      const m = (await (await fetch(`${srv.url}/api/files/${file.id}/metadata`, { headers: auth })).json()) as { width: number; height: number; orientation: number | null };
      return m.orientation === null ? null : m;
    });
    expect(meta).toMatchObject({ width: 200, height: 400, orientation: 6 });
    const list = (await (await fetch(`${srv.url}/api/files?limit=5`, { headers: auth })).json()) as { results: { id: string; width: number; height: number }[] };
    expect(list.results.find((f) => f.id === file.id)).toMatchObject({ width: 200, height: 400 });

    const rendered = await sharp(Buffer.from(await (await fetch(`${srv.url}/t/w_1200,c_limit,f_jpg/${file.id}`)).arrayBuffer())).metadata();
    expect([rendered.width, rendered.height]).toEqual([200, 400]);
    const page = await (await fetch(`${srv.url}/v/${file.id}`)).text();
    expect(page).toContain('<meta property="og:image:width" content="200">');
    expect(page).toContain('<meta property="og:image:height" content="400">');
    const oembed = (await (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(`${srv.url}/v/${file.id}`)}`)).json()) as Record<string, unknown>;
    expect(oembed).toMatchObject({ width: 200, height: 400 });
  }, 120_000);
});

describe.each(DB_BACKENDS)('migration 0015 on %s', (db) => {
  test('a row written with the coded size (and its cached metadata) turns to the displayed one; others stay', async () => {
    const h = await makeTestApp({ db, env: { REQUEST_LOGS: 'false' } });
    try {
      const user = await seedUser(h.deps);
      const turned = await seedFile(h.deps, user.id, await portrait(), { contentType: 'image/jpeg' });
      const upright = await seedFile(h.deps, user.id, await gradient(400, 200).jpeg().toBuffer(), { contentType: 'image/jpeg' });
      const unknown = await seedFile(h.deps, user.id, await portrait(), { contentType: 'image/jpeg' });
      // As the old code wrote them: coded size on the row and in the metadata.
      await h.deps.db.update(files).set({ width: 400, height: 200, meta: { width: 400, height: 200, orientation: 6, blurhash: 'x' } }).where(eq(files.id, turned.id));
      await h.deps.db.update(files).set({ width: 400, height: 200, meta: { width: 400, height: 200, orientation: 1 } }).where(eq(files.id, upright.id));
      await h.deps.db.update(files).set({ width: 400, height: 200, meta: null }).where(eq(files.id, unknown.id));
      const text = readFileSync(new URL('../../db/migrations/0015_displayed_dimensions.sql', import.meta.url), 'utf8');
      await h.deps.db.execute(sql.raw(text));
      const rows = await h.deps.db.select({ id: files.id, width: files.width, height: files.height, meta: files.meta }).from(files);
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(turned.id)).toMatchObject({ width: 200, height: 400, meta: { width: 200, height: 400, orientation: 6, blurhash: 'x' } });
      expect(byId.get(upright.id)).toMatchObject({ width: 400, height: 200, meta: { width: 400, height: 200 } });
      // No cached metadata: left for its derive job, which sets the displayed size with the metadata.
      expect(byId.get(unknown.id)).toMatchObject({ width: 400, height: 200 });
      const meta = await h.request(`/api/files/${unknown.id}/metadata`, { headers: { authorization: `Bearer ${user.key}` } });
      expect(meta.status).toBe(200);
      const [after] = await h.deps.db.select({ width: files.width, height: files.height }).from(files).where(eq(files.id, unknown.id));
      expect(after).toEqual({ width: 200, height: 400 });
    } finally {
      await h.close();
    }
  }, 120_000);
});
