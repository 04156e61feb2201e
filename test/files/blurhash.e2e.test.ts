/**
 * The file object carries its blurhash and dominant colour (issue #20: the web app's thumbnails
 * use the blurhash as placeholder), computed by the upload's `derive` job, over real HTTP: no
 * request to `/metadata` is needed for them to appear, list pages and `GET /api/files/:id` show
 * the same values, and non-images carry nulls.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { isBlurhashValid } from 'blurhash';
import { animation, quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';
import { until } from '../helpers/until';

interface FileJson { id: string; content_type: string; blurhash: string | null; dominant_color: string | null }

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

describe('blurhash on the file object', () => {
  let srv: RunningServer;
  let auth: Record<string, string>;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
    auth = { authorization: `Bearer ${srv.bootstrap!.api_key}` };
  }, 90_000);
  afterAll(() => srv?.close());

  const upload = async (body: Buffer, contentType: string): Promise<FileJson> => {
    const res = await fetch(`${srv.url}/api/files?folder=/bh`, { method: 'POST', body: new Uint8Array(body), headers: { ...auth, 'content-type': contentType } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: FileJson }).file;
  };
  const getFile = async (id: string): Promise<FileJson> => {
    const res = await fetch(`${srv.url}/api/files/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as FileJson;
  };
  const list = async (): Promise<FileJson[]> => {
    const res = await fetch(`${srv.url}/api/files?folder=/bh&limit=10`, { headers: auth });
    expect(res.status).toBe(200);
    return ((await res.json()) as { results: FileJson[] }).results;
  };

  test('images get a valid blurhash and colour after the derive job; PDFs get nulls', async () => {
    const png = await quadrants(64, 48).png().toBuffer();
    const jpeg = await quadrants(80, 60).jpeg().toBuffer();
    const img1 = await upload(png, 'image/png');
    const img2 = await upload(jpeg, 'image/jpeg');
    const pdf = await upload(PDF, 'application/pdf');
    expect(pdf.blurhash).toBeNull();
    expect(pdf.dominant_color).toBeNull();

    // Only the job computes it here: nothing in this test asks for /metadata before.
    for (const f of [img1, img2]) {
      const done = await until(`blurhash of ${f.content_type}`, async () => {
        const got = await getFile(f.id);
        return typeof got.blurhash === 'string' ? got : null;
      });
      expect(isBlurhashValid(done.blurhash!)).toEqual({ result: true });
      expect(done.dominant_color).toMatch(/^#[0-9a-f]{6}$/);
      // The same cached values the metadata route reports.
      const meta = (await (await fetch(`${srv.url}/api/files/${f.id}/metadata`, { headers: auth })).json()) as FileJson;
      expect(meta.blurhash).toBe(done.blurhash);
      expect(meta.dominant_color).toBe(done.dominant_color);
      // And /info, whose palette is its own: its `dominant_color` was the fullest palette group's average.
      const info = (await (await fetch(`${srv.url}/api/files/${f.id}/info`, { headers: auth })).json()) as FileJson;
      expect([f.content_type, info.dominant_color]).toEqual([f.content_type, done.dominant_color]);
    }

    const page = await list();
    expect(page.map((f) => f.id).sort()).toEqual([img1.id, img2.id, pdf.id].sort());
    for (const f of page) {
      if (f.id === pdf.id) {
        expect(f.blurhash).toBeNull();
        expect(f.dominant_color).toBeNull();
      } else {
        expect(typeof f.blurhash).toBe('string');
        expect(isBlurhashValid(f.blurhash!).result).toBe(true);
        expect(f.blurhash).toBe((await getFile(f.id)).blurhash);
      }
    }
    expect((await getFile(pdf.id)).blurhash).toBeNull();
  }, 180_000);

  test('an animated GIF\'s derive job completes (its eager t_thumb, c_fill,g_auto, was a 500 three times over)', async () => {
    const gif = await upload(await animation('gif', 4, 120, 80), 'image/gif');
    const job = await until('the derive job of the GIF to end', async () => {
      const res = await fetch(`${srv.url}/api/queue/jobs?type=derive&limit=200`, { headers: auth });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: { file_id: string; status: string; last_error: string | null }[] };
      const mine = results.find((j) => j.file_id === gif.id);
      return mine && (mine.status === 'completed' || mine.status === 'failed') ? mine : null;
    });
    expect(job).toMatchObject({ status: 'completed', last_error: null });
    const thumb = await fetch(`${srv.url}/t/t_thumb/${gif.id}`, { headers: { accept: 'image/webp,*/*' } });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('x-cache')).toMatch(/^HIT/);
  }, 180_000);
});
