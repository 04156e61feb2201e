/**
 * The upload's header probe (probe.ts) on whole files, read once and strictly: dimensions are
 * one frame's, the pixel bound counts every frame, and what cannot be decoded is refused with
 * the decoder's reason.
 */
import { describe, expect, test } from 'bun:test';
import { animation, gradient, pngHeaderOnly } from '../../../test/helpers/images';
import { AppError } from '../../errors';
import type { StorageDriver } from '../../storage';
import { probeImage } from './probe';

// Whole files never reach storage: the probe reads only the bytes it is given.
const unused = {} as StorageDriver;
const probe = (type: string, bytes: Uint8Array, maxPixels = 100_000_000) => probeImage(type, bytes, true, maxPixels, unused, 'k');

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).status).toBe(415);
  return err as AppError;
}

describe('probeImage on a whole upload', () => {
  test('an animation measures one frame', async () => {
    expect(await probe('image/gif', await animation('gif', 5, 40, 30))).toEqual({ width: 40, height: 30 });
    expect(await probe('image/webp', await animation('webp', 4, 40, 30))).toEqual({ width: 40, height: 30 });
  });

  test('the pixel bound counts every frame', async () => {
    const gif = await animation('gif', 5, 40, 30);
    expect(await probe('image/gif', gif, 40 * 30 * 5)).toEqual({ width: 40, height: 30 });
    const err = await refusal(probe('image/gif', gif, 40 * 30 * 5 - 1));
    expect(err.details).toMatchObject({ width: 40, height: 30, frames: 5 });
  });

  test('a still image, and a header declaring too many pixels', async () => {
    expect(await probe('image/jpeg', await gradient(300, 200).jpeg().toBuffer())).toEqual({ width: 300, height: 200 });
    const err = await refusal(probe('image/png', pngHeaderOnly(30000, 30000)));
    expect(err.message).toContain('over the limit');
    expect(err.details).toMatchObject({ width: 30000, height: 30000 });
  });

  test('bytes the decoder cannot read are refused with its reason', async () => {
    const jpeg = await gradient(300, 200).jpeg().toBuffer();
    const err = await refusal(probe('image/jpeg', jpeg.subarray(0, 40)));
    expect(err.message).toStartWith('The image cannot be decoded: ');
    expect(typeof err.details?.reason).toBe('string');
  });
});
