import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { dominantColor } from './dominant';

const rgba = (pixels: number[][]) => new Uint8Array(pixels.flat());

describe('dominant colour of a small decode', () => {
  test('the fullest 16-level bin wins, reported as its centre', () => {
    const px = [...Array(6).fill([200, 10, 10, 255]), ...Array(4).fill([10, 200, 10, 255])];
    expect(dominantColor(rgba(px), 4)).toBe('#c80808');
  });

  test('transparent pixels do not count unless every pixel is transparent', () => {
    const px = [...Array(8).fill([0, 0, 0, 0]), ...Array(2).fill([255, 255, 255, 255])];
    expect(dominantColor(rgba(px), 4)).toBe('#f8f8f8');
    expect(dominantColor(rgba(Array(4).fill([0, 0, 0, 0])), 4)).toBe('#080808');
  });

  test('three channels work too', () => {
    expect(dominantColor(new Uint8Array([40, 80, 120, 40, 80, 120, 1, 2, 3]), 3)).toBe('#285878');
  });

  test('picks the same bin as sharp on an image of two colours (what it replaces)', async () => {
    const img = sharp({ create: { width: 64, height: 64, channels: 3, background: '#3070b0' } })
      .composite([{ input: { create: { width: 64, height: 20, channels: 3, background: '#e0e020' } }, top: 0, left: 0 }]);
    const png = await img.png().toBuffer();
    const { dominant } = await sharp(png).stats();
    const small = await sharp(png).resize(32, 32, { fit: 'inside' }).ensureAlpha().raw().toBuffer();
    // sharp reports a bin as its lower edge − 8, this as its centre: the same bin is 16 apart.
    const ours = dominantColor(small, 4);
    const channels = [1, 3, 5].map((i) => parseInt(ours.slice(i, i + 2), 16));
    expect(channels).toEqual([dominant.r + 16, dominant.g + 16, dominant.b + 16]);
  });
});
