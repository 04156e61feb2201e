/**
 * Pure: the ffmpeg arguments of a rendition, from the probed source and the options. Sizes are
 * computed here (not by ffmpeg expressions) so they are known, checked and even (4:2:0 needs
 * even sides). The bench runs ffmpeg directly with exactly these arguments.
 */
import type { TransformOptions } from '../transform/options';
import type { RenditionExt } from './grammar';
import type { VideoInfo } from './probe';

export interface Size {
  width: number;
  height: number;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The output frame and the ffmpeg video filter that makes it from the displayed source. */
export function renditionGeometry(src: Size, o: TransformOptions): { size: Size; filter: string } {
  const dpr = o.dpr ?? 1;
  const bw = o.w !== undefined ? Math.round(o.w * dpr) : undefined;
  const bh = o.h !== undefined ? Math.round(o.h * dpr) : undefined;
  const mode = o.c ?? 'limit';
  const scaleTo = (s: number) => ({ width: even(src.width * s), height: even(src.height * s) });
  if (bw === undefined && bh === undefined) {
    const size = scaleTo(1);
    return { size, filter: `scale=${size.width}:${size.height},setsar=1` };
  }
  const sx = bw !== undefined ? bw / src.width : Infinity;
  const sy = bh !== undefined ? bh / src.height : Infinity;
  const inside = Math.min(sx, sy);
  if (mode === 'scale') {
    const size = { width: even(bw ?? src.width * inside), height: even(bh ?? src.height * inside) };
    return { size, filter: `scale=${size.width}:${size.height},setsar=1` };
  }
  if ((mode === 'fill' || mode === 'lfill') && bw !== undefined && bh !== undefined) {
    const box = mode === 'lfill' ? { width: Math.min(bw, src.width), height: Math.min(bh, src.height) } : { width: bw, height: bh };
    const cover = Math.max(box.width / src.width, box.height / src.height);
    const scaled = scaleTo(cover);
    const size = { width: Math.min(even(box.width), scaled.width), height: Math.min(even(box.height), scaled.height) };
    return { size, filter: `scale=${scaled.width}:${scaled.height},crop=${size.width}:${size.height},setsar=1` };
  }
  const s = mode === 'limit' || mode === 'lfill' ? Math.min(1, inside) : inside;
  const scaled = scaleTo(s);
  if (mode === 'pad' && bw !== undefined && bh !== undefined) {
    const size = { width: even(bw), height: even(bh) };
    return { size, filter: `scale=${scaled.width}:${scaled.height},pad=${size.width}:${size.height}:(ow-iw)/2:(oh-ih)/2,setsar=1` };
  }
  return { size: scaled, filter: `scale=${scaled.width}:${scaled.height},setsar=1` };
}

/**
 * Why a rendition's output frame is refused, or null when it fits: at most `maxPixels` per frame
 * and `maxSide` per side. A width alone can upscale (`c_scale`, `c_fit`): a 320×240 source at
 * `w_8192,c_scale` is 8192×6144, which ffmpeg allocated gigabytes for.
 */
export function renditionSizeProblem(src: Size, o: TransformOptions, maxPixels: number, maxSide: number): string | null {
  const { size } = renditionGeometry(src, o);
  if (size.width > maxSide || size.height > maxSide) return `${size.width}×${size.height}: a side over ${maxSide} pixels`;
  if (size.width * size.height > maxPixels) return `${size.width}×${size.height}: over ${maxPixels} pixels per frame`;
  return null;
}

/** `q` 1–100 onto each encoder's constant-quality scale; absent → the encoder's usual default. */
export function crfOf(ext: RenditionExt, q: number | undefined): number {
  if (ext === 'mp4') return q === undefined ? 23 : Math.round(51 - (q / 100) * 33); // x264: 18 (q 100) … 51
  return q === undefined ? 33 : Math.round(63 - (q / 100) * 48); // VP9: 15 … 63
}

export interface RenditionPlan {
  args: string[];
  size: Size;
  /** Seconds of output expected. */
  duration: number;
}

/** The whole argument list, input and output paths included. */
export function renditionArgs(input: string, output: string, info: VideoInfo, o: TransformOptions, ext: RenditionExt, maxBytes: number, threads = 0): RenditionPlan {
  const start = o.so ?? 0;
  const end = Math.min(o.eo ?? info.duration_s, info.duration_s);
  const { size, filter } = renditionGeometry(info, o);
  const fps = o.fps !== undefined && (info.fps === null || info.fps > o.fps) ? `,fps=${o.fps}` : '';
  const crf = String(crfOf(ext, o.q));
  const cap = o.br !== undefined ? ['-maxrate', String(o.br), '-bufsize', String(o.br * 2)] : [];
  const video = ext === 'mp4'
    ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', crf, '-pix_fmt', 'yuv420p', '-profile:v', 'high', ...cap]
    : ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-crf', crf, '-b:v', o.br !== undefined ? String(o.br) : '0', '-pix_fmt', 'yuv420p', ...(o.br !== undefined ? ['-maxrate', String(o.br), '-bufsize', String(o.br * 2)] : [])];
  const audio = o.ac === 'none' || info.audio_codec === null
    ? ['-an']
    : ['-map', '0:a:0?', ...(ext === 'mp4' ? ['-c:a', 'aac', '-b:a', '128k'] : ['-c:a', 'libopus', '-b:a', '96k'])];
  return {
    size,
    duration: Math.max(0, end - start),
    args: [
      '-hide_banner', '-nostdin', '-v', 'error', '-y', '-progress', 'pipe:1', '-nostats',
      ...(start > 0 ? ['-ss', String(start)] : []),
      '-i', input,
      '-t', String(Math.max(0.001, end - start)),
      '-map', '0:v:0', ...audio, '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1',
      '-vf', filter + fps,
      ...video,
      '-threads', String(threads),
      ...(ext === 'mp4' ? ['-movflags', '+faststart', '-f', 'mp4'] : ['-f', 'webm']),
      '-fs', String(maxBytes),
      output,
    ],
  };
}
