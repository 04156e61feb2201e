/** The streaming truncation checks (issue #17 point 7) against real encoder output, fed in odd chunk sizes. */
import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { truncationCheckFor } from './truncation';

const noise = (w: number, h: number) => sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } });

/** Runs the check over `bytes` split into chunks of `size` bytes. */
function verdict(type: string, bytes: Uint8Array, size: number): string | null {
  const check = truncationCheckFor(type)!;
  for (let i = 0; i < bytes.length; i += size) check.push(bytes.subarray(i, i + size));
  return check.end();
}
const SIZES = [1, 7, 4096, 1 << 20];

describe('truncationCheckFor', () => {
  test('whole JPEG, PNG and AVIF files pass, in any chunking; JPEG with data after its end marker passes', async () => {
    const withThumb = await noise(300, 200).jpeg().withExif({ IFD0: { Copyright: 'x' } }).toBuffer();
    const files: [string, Buffer][] = [
      ['image/jpeg', await noise(300, 200).jpeg().toBuffer()],
      ['image/jpeg', await noise(300, 200).jpeg({ progressive: true }).toBuffer()],
      ['image/jpeg', withThumb],
      ['image/jpeg', Buffer.concat([await noise(64, 64).jpeg().toBuffer(), randomBytes(5000)])], // a motion photo's trailer
      ['image/png', await noise(300, 200).png().toBuffer()],
      ['image/avif', await noise(120, 80).avif({ effort: 0 }).toBuffer()],
    ];
    for (const [type, bytes] of files) for (const size of SIZES) expect({ type, size, v: verdict(type, bytes, size) }).toEqual({ type, size, v: null });
  });

  test('a file cut anywhere before its end is flagged (JPEG before EOI, PNG inside a chunk, AVIF inside a box)', async () => {
    const jpeg = await noise(300, 200).jpeg().toBuffer();
    const png = await noise(300, 200).png().toBuffer();
    const avif = await noise(120, 80).avif({ effort: 0 }).toBuffer();
    for (const [type, bytes, pattern] of [
      ['image/jpeg', jpeg, /end-of-image marker/], ['image/png', png, /ends inside its "IDAT" chunk/], ['image/avif', avif, /ends inside its/],
    ] as const) {
      for (const cut of [0.5, 0.9]) {
        for (const size of SIZES) expect(verdict(type, bytes.subarray(0, Math.floor(bytes.length * cut)), size)).toMatch(pattern);
      }
    }
    expect(verdict('image/jpeg', jpeg.subarray(0, jpeg.length - 2), 4096)).toMatch(/truncated/); // only the EOI missing
  });

  test('a PNG without IEND but with whole chunks passes (it decodes); other types have no check', async () => {
    const png = await noise(50, 50).png().toBuffer();
    expect(verdict('image/png', png.subarray(0, png.length - 12), 4096)).toBeNull();
    expect(truncationCheckFor('image/gif')).toBeNull();
    expect(truncationCheckFor('application/pdf')).toBeNull();
  });
});
