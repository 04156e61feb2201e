/**
 * The decoding thread of `heic.ts`: libheif's WebAssembly build, which decodes on the thread that
 * calls it, here instead of the request thread. libheif-js itself rather than heic-decode's
 * wrapper of it: the wrapper decodes the file's first image, and the photo is its primary one
 * (the one `pitm` names, as sharp and every viewer show), which need not come first.
 */
import libheif from 'libheif-js/wasm-bundle.js';

interface Job {
  id: number;
  input: Uint8Array;
}

// libheif prints what it cannot parse; the reason comes back with the error instead.
console.log = () => {};

const post = (msg: unknown, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

async function decodePrimary(input: Uint8Array): Promise<{ width: number; height: number; pixels: Uint8Array }> {
  const decoder = new libheif.HeifDecoder();
  let images: ReturnType<typeof decoder.decode> = [];
  try {
    images = decoder.decode(input);
    // Never another image in its place: libheif leaves out a top-level image it cannot read.
    const image = images.find((i) => i.is_primary());
    if (!image) throw new Error(images.length ? 'the primary image could not be read' : 'HEIF image not found');
    const width = image.get_width();
    const height = image.get_height();
    const data = await new Promise<Uint8ClampedArray>((resolve, reject) => {
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (out) => (out ? resolve(out.data) : reject(new Error('HEIF processing error'))));
    });
    return { width, height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } finally {
    for (const image of images) image.free();
    decoder.decoder?.delete();
  }
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const { id, input } = e.data;
  try {
    const { width, height, pixels } = await decodePrimary(input);
    post({ id, width, height, pixels }, [pixels.buffer]);
  } catch (err) {
    post({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
