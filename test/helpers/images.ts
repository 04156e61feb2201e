/**
 * Test images generated with sharp (tests never read ../shared): flat quadrants whose layout
 * after a transform is easy to predict, gradients, animations, and a pixel-difference metric
 * for golden comparisons.
 */
import sharp, { type Sharp } from 'sharp';

export type Colour = [number, number, number];
export const RED: Colour = [220, 30, 30];
export const GREEN: Colour = [30, 200, 60];
export const BLUE: Colour = [40, 60, 220];
export const YELLOW: Colour = [240, 220, 40];

/** A `width`×`height` image split into four flat quadrants: TL red, TR green, BL blue, BR yellow. */
export function quadrants(width: number, height: number, colours: [Colour, Colour, Colour, Colour] = [RED, GREEN, BLUE, YELLOW]): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1);
      data.set(colours[q] as Colour, (y * width + x) * 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** A smooth diagonal gradient (good for resampling and encoder checks). */
export function gradient(width: number, height: number): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[(y * width + x) * 3] = Math.round((x / width) * 255);
      data[(y * width + x) * 3 + 1] = Math.round((y / height) * 255);
      data[(y * width + x) * 3 + 2] = 128;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** A flat-colour image. */
export const flat = (width: number, height: number, c: Colour, alpha = 1): Sharp =>
  sharp({ create: { width, height, channels: alpha < 1 ? 4 : 3, background: { r: c[0], g: c[1], b: c[2], alpha } } });

/** An animated GIF or WebP of `frames` flat frames cycling red/green/blue. */
export async function animation(format: 'gif' | 'webp', frames: number, width = 40, height = 30): Promise<Buffer> {
  const cycle = [RED, GREEN, BLUE];
  const inputs = await Promise.all(
    Array.from({ length: frames }, (_, i) => flat(width, height, cycle[i % 3] as Colour).png().toBuffer()),
  );
  const joined = sharp(inputs, { join: { animated: true } });
  return format === 'gif' ? joined.gif({ delay: 50, loop: 0 }).toBuffer() : joined.webp({ delay: 50, loop: 0 }).toBuffer();
}

/** Mean absolute difference per channel (0–255) between two images, compared at `a`'s size as RGBA. */
export async function pixelDifference(a: Buffer | Sharp, b: Buffer | Sharp): Promise<number> {
  const left = await (Buffer.isBuffer(a) ? sharp(a) : a).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const right = await (Buffer.isBuffer(b) ? sharp(b) : b)
    .ensureAlpha()
    .resize(left.info.width, left.info.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  let sum = 0;
  for (let i = 0; i < left.data.length; i++) sum += Math.abs((left.data[i] as number) - (right[i] as number));
  return sum / left.data.length;
}

/** RGBA of one pixel. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return [data[i] as number, data[i + 1] as number, data[i + 2] as number, data[i + 3] as number];
}

/**
 * A PNG whose header claims `width`×`height` but whose pixel data is a stub: enough for a header
 * probe, and proof that nothing decodes the pixels (decoding it would fail).
 */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const byte of buf) c = (crcTable[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // A tiny valid zlib stream of a few zero bytes: far fewer rows than the header promises.
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}
