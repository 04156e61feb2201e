/**
 * What a failed render means (#17 point 7), with real sharp: the original's own decode failing,
 * or the render's loader failing on the bytes, is a remembered 422; a fault of our pipeline on a
 * decodable original stays the original error (a 500).
 */
import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { AppError } from '../../errors';
import { createUnreadableSources } from './unreadable';

const o = { limitInputPixels: 100_000_000, animated: false };
const png = () => sharp({ create: { width: 32, height: 24, channels: 3, background: '#3366cc' } }).png().toBuffer();

describe('unreadable sources', () => {
  test('a loader error on a source that the check decodes is still the source: 422, remembered', async () => {
    const u = createUnreadableSources();
    const out = await u.explain('a'.repeat(64), await png(), new Error('vipspng: libpng read error'), o);
    expect(out).toBeInstanceOf(AppError);
    expect((out as AppError).status).toBe(422);
    expect((out as AppError).code).toBe('UNPROCESSABLE_IMAGE');
    expect(u.get('a'.repeat(64))).toBe(out as AppError);
  });

  test('a pipeline error on a decodable source stays what it was, and nothing is remembered', async () => {
    const u = createUnreadableSources();
    const err = new Error('extract_area: bad extract area');
    expect(await u.explain('b'.repeat(64), await png(), err, o)).toBe(err);
    expect(u.get('b'.repeat(64))).toBeUndefined();
  });

  test('a source whose own decode fails is a 422 whatever the render said', async () => {
    const u = createUnreadableSources();
    const bytes = Buffer.from(await png());
    bytes.fill(0x55, bytes.indexOf('IDAT') + 6, bytes.indexOf('IDAT') + 40);
    const out = await u.explain('c'.repeat(64), bytes, new Error('something else'), o);
    expect((out as AppError).status).toBe(422);
  });

  test("a render whose message a sibling took ('Unknown error') gets the sibling's verdict on the same original", async () => {
    const u = createUnreadableSources();
    const bytes = await png();
    const sha = 'd'.repeat(64);
    // Started first, so it has to wait for the sibling that holds the loader's message.
    const taken = u.explain(sha, bytes, new Error('Unknown error'), o);
    const loader = u.explain(sha, bytes, new Error('vipspng: libpng read error'), o);
    const [a, b] = await Promise.all([taken, loader]);
    expect((a as AppError).status).toBe(422);
    expect(a).toBe(b);
  });

  test("'Unknown error' with no sibling on a decodable original stays what it was", async () => {
    const u = createUnreadableSources();
    const err = new Error('Unknown error');
    expect(await u.explain('e'.repeat(64), await png(), err, o)).toBe(err);
    expect(u.get('e'.repeat(64))).toBeUndefined();
  });
});
