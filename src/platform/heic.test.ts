/**
 * The HEIC decoding thread (heic.ts): a photo the decoder refuses is the file's fault; out of
 * time or too many waiting is not, and the thread is there again for the next photo.
 */
import { beforeAll, expect, test } from 'bun:test';
import { hevcHeic } from '../../test/helpers/heic';
import { decodeHeic, HeicDecodeError, HeicUnavailableError } from './heic';

let heic: Buffer;
beforeAll(async () => {
  heic = await hevcHeic({ width: 64, height: 48, rgb: 0x20a040 });
}, 60_000);

test('decodes; a corrupt photo is a HeicDecodeError; one out of time is HeicUnavailableError and the next decodes', async () => {
  const ok = await decodeHeic(heic, 30_000);
  expect([ok.width, ok.height, ok.pixels.length]).toEqual([64, 48, 64 * 48 * 4]);

  const broken = Buffer.from(heic);
  broken.writeUInt32BE(0x7fffff00, broken.indexOf(Buffer.from('mdat', 'latin1')) + 4);
  expect(await decodeHeic(broken, 30_000).catch((e: unknown) => e)).toBeInstanceOf(HeicDecodeError);

  // No time at all: given up (the thread ended), not blamed on the photo; the next one is decoded.
  expect(await decodeHeic(heic, 0).catch((e: unknown) => e)).toBeInstanceOf(HeicUnavailableError);
  expect(await decodeHeic(heic, 1).catch((e: unknown) => e)).toBeInstanceOf(HeicUnavailableError);
  expect((await decodeHeic(heic, 30_000)).width).toBe(64);
}, 60_000);

test('at most 8 wait in line; the ninth is told to come back, the eight are decoded', async () => {
  const asked = Array.from({ length: 9 }, () => decodeHeic(heic, 60_000).then((d) => d.width, (e: unknown) => e));
  const got = await Promise.all(asked);
  expect(got.slice(0, 8)).toEqual(Array(8).fill(64));
  expect(got[8]).toBeInstanceOf(HeicUnavailableError);
}, 120_000);
