/**
 * What a rendition answers when it cannot be made, and what is checked before a job is: a failed
 * rendition is tried again under other settings (it answered 422 for a week, for every file of
 * the same bytes, naming a limit raised since) and an hour later; a start time after the last
 * frame fails its job (it served a 200 video with no picture); an eager rendition at upload is
 * checked as a URL's is (it was queued, then failed); HEAD refuses what GET refuses (it said
 * "not started" forever); `w_auto` renditions carry `Vary` and `Accept-CH`; a one-frame clip has
 * a default poster.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { h264Mp4, makeVideo, tenHourSparse } from '../helpers/videos';

/** The first answer to `url` that is not 202 (a rendition being prepared). */
async function pastPreparing(url: string, headers: Record<string, string> = {}): Promise<Response> {
  for (;;) {
    const res = await fetch(url, { headers });
    if (res.status !== 202) return res;
    await res.arrayBuffer();
    await Bun.sleep(250);
  }
}

const oneFrame = () => makeVideo('mp4', (out) => ['-f', 'lavfi', '-i', 'color=c=red:size=64x64:rate=25:duration=1',
  '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);

describe('rendition failures and the checks before a job', () => {
  let db: TestDatabase;
  let srv: RunningServer;
  let key = '';
  let clip = '';
  const upload = async (bytes: Buffer, query = '') => {
    const res = await fetch(`${srv.url}/api/files${query}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/mp4' }, body: new Uint8Array(bytes) });
    return { status: res.status, body: (await res.json()) as { file: { id: string }; error?: string; details?: { parameter?: string } } };
  };
  const count = async () => ((await (await fetch(`${srv.url}/api/files?limit=1`, { headers: { 'x-api-key': key } })).json()) as { count: number }).count;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Every rendition of the 3 s clip is larger than 2 KiB: its job fails on VIDEO_MAX_OUTPUT_BYTES.
    srv = await startServer({ env: { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true', VIDEO_MAX_OUTPUT_BYTES: '2KiB' } });
    key = srv.bootstrap!.api_key;
    const up = await upload(await h264Mp4());
    expect(up.status).toBe(201);
    clip = up.body.file.id;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
  });

  test('a failure stands under the same settings, and is tried again under others (the limit raised) and after an hour', async () => {
    const url = () => `${srv.url}/t/w_100/${clip}.mp4`;
    const failed = await pastPreparing(url());
    expect(failed.status).toBe(422);
    const first = (await failed.json()) as { message: string; details: { job_id: string } };
    expect(first.message).toContain('VIDEO_MAX_OUTPUT_BYTES');
    expect(first.message).not.toContain('..');
    const again = await fetch(url());
    expect(again.status).toBe(422);
    expect(((await again.json()) as { details: { job_id: string } }).details.job_id).toBe(first.details.job_id);

    // The same data and database, the limit back at its default: the rendition is made.
    await srv.stop();
    srv = await startServer({ dataDir: srv.dataDir, env: { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' } });
    const made = await pastPreparing(url());
    expect([made.status, made.headers.get('content-type')]).toEqual([200, 'video/mp4']);
    expect((await made.arrayBuffer()).byteLength).toBeGreaterThan(2048);

    // A start after the last frame (the clip's last is at 2.96 s): the job fails; it made a video with no picture.
    const late = `${srv.url}/t/w_100,so_2.99/${clip}.mp4`;
    const noPicture = await pastPreparing(late);
    expect(noPicture.status).toBe(422);
    const body = (await noPicture.json()) as { message: string; details: { job_id: string } };
    expect(body.message).toContain('no frame from 2.99 s on');
    expect((await fetch(late)).status).toBe(422);
    // An hour later the next request tries again: a new job.
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql`update jobs set finished_at = finished_at - interval '61 minutes' where id = ${body.details.job_id}`;
    await sql.end();
    const retried = await fetch(late);
    expect(retried.status).toBe(202);
    const next = await pastPreparing(late);
    expect(next.status).toBe(422);
    expect(((await next.json()) as { details: { job_id: string } }).details.job_id).not.toBe(body.details.job_id);
  }, 180_000);

  test('an eager rendition at upload is checked as a URL\'s is: a start past the end, or a source over a limit, is a 400 and nothing is kept', async () => {
    const before = await count();
    const late = await upload(await h264Mp4(), '?transformations=so_5.mp4');
    expect([late.status, late.body.error, late.body.details?.parameter]).toEqual([400, 'INVALID_TRANSFORMATION', 'so']);
    const long = await upload(await tenHourSparse(), '?transformations=w_64.mp4');
    expect([long.status, long.body.error, long.body.details?.parameter]).toEqual([400, 'INVALID_TRANSFORMATION', 'file']);
    expect(await count()).toBe(before);
  }, 120_000);

  test('HEAD refuses what GET refuses (it answered 202 "not started" to a rendition GET answers 400)', async () => {
    const long = await upload(await tenHourSparse());
    expect(long.status).toBe(201);
    const url = `${srv.url}/t/w_64/${long.body.file.id}.mp4`;
    expect((await fetch(url)).status).toBe(400);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(400);
    expect((await fetch(`${srv.url}/t/w_64,so_9/${clip}.mp4`, { method: 'HEAD' })).status).toBe(400);
  }, 120_000);

  test('a w_auto rendition follows Sec-CH-Width and says so: Vary and Accept-CH (a cache gave one client\'s size to all)', async () => {
    const url = `${srv.url}/t/w_auto/${clip}.mp4`;
    const res = await pastPreparing(url, { 'sec-ch-width': '200' });
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toContain('Sec-CH-Width');
    expect(res.headers.get('accept-ch')).toContain('Sec-CH-Width');
    await res.arrayBuffer();
    const plain = await pastPreparing(`${srv.url}/t/w_200/${clip}.mp4`);
    expect(plain.headers.get('vary')).toBeNull();
    await plain.arrayBuffer();
  }, 180_000);

  test('a one-frame clip has a default poster (the default time fell after its only frame: 422)', async () => {
    const up = await upload(await oneFrame());
    expect(up.status).toBe(201);
    const res = await fetch(`${srv.url}/t/w_50,f_png/${up.body.file.id}`);
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(50);
  }, 120_000);
});
