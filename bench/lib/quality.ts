/**
 * Quality figures of a lossy render against a lossless one of the same size (bench/formats.ts):
 * decoded to 8-bit sRGB by sharp, then
 * - SSIM on luma (BT.601 Y), mean over 8×8 windows at a stride of 4, the usual constants
 *   (K1 0.01, K2 0.03, L 255), uniform windows rather than Gaussian ones: simple, and enough to
 *   rank encoder settings against each other;
 * - PSNR over R, G and B together (so chroma loss counts, which luma SSIM cannot see);
 * - PSNR of the chroma planes alone (Cb, Cr): where 4:2:0 against 4:4:4 shows.
 */
import sharp from 'sharp';

export interface Quality {
  ssimY: number;
  psnrRgb: number;
  psnrChroma: number;
}

interface Planes {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export async function decodeRgb(bytes: Uint8Array): Promise<Planes> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

const psnr = (sumSq: number, n: number) => (sumSq === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / sumSq));

function toYCbCr(p: Planes): { y: Float64Array; cb: Float64Array; cr: Float64Array } {
  const n = p.width * p.height;
  const y = new Float64Array(n), cb = new Float64Array(n), cr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = p.rgb[3 * i]!, g = p.rgb[3 * i + 1]!, b = p.rgb[3 * i + 2]!;
    y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    cb[i] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    cr[i] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  return { y, cb, cr };
}

function ssim(a: Float64Array, b: Float64Array, width: number, height: number): number {
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2, W = 8, S = 4, N = W * W;
  let total = 0, windows = 0;
  for (let y0 = 0; y0 + W <= height; y0 += S) {
    for (let x0 = 0; x0 + W <= width; x0 += S) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let y = y0; y < y0 + W; y++) {
        for (let i = y * width + x0, end = i + W; i < end; i++) {
          const va = a[i]!, vb = b[i]!;
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
        }
      }
      const ma = sa / N, mb = sb / N;
      const va = saa / N - ma * ma, vb = sbb / N - mb * mb, cov = sab / N - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return total / windows;
}

/** Quality of `test` against `reference` (both decoded; sizes must match). */
export function compare(reference: Planes, test: Planes): Quality {
  if (reference.width !== test.width || reference.height !== test.height) {
    throw new Error(`size mismatch: ${reference.width}×${reference.height} vs ${test.width}×${test.height}`);
  }
  let sq = 0;
  for (let i = 0; i < reference.rgb.length; i++) sq += (reference.rgb[i]! - test.rgb[i]!) ** 2;
  const r = toYCbCr(reference), t = toYCbCr(test);
  let sqc = 0;
  for (let i = 0; i < r.cb.length; i++) sqc += (r.cb[i]! - t.cb[i]!) ** 2 + (r.cr[i]! - t.cr[i]!) ** 2;
  return {
    ssimY: ssim(r.y, t.y, reference.width, reference.height),
    psnrRgb: psnr(sq, reference.rgb.length),
    psnrChroma: psnr(sqc, 2 * r.cb.length),
  };
}
