/**
 * Short test videos made on the spot with the bundled ffmpeg (no binary fixtures in the repo),
 * plus ffprobe of a produced file, for the video suites (#23).
 */
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const FFMPEG = ffmpegInstaller.path;
export const FFPROBE = ffprobeInstaller.path;

/** Runs ffmpeg with `args` that write to `out.<ext>` in a temp folder; returns the bytes. */
export async function makeVideo(ext: string, args: (out: string) => string[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-tv-'));
  try {
    const out = join(dir, `out.${ext}`);
    await run(FFMPEG, ['-hide_banner', '-v', 'error', '-y', ...args(out)], { maxBuffer: 16 * 1024 * 1024 });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SOURCE = (size: string, seconds: number, rate = 25) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
const TONE = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];

/** H.264/AAC MP4, 640×360, 25 fps, 3 s. */
export const h264Mp4 = () => makeVideo('mp4', (out) => [...SOURCE('640x360', 3), ...TONE(3),
  '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out]);

/** VP9/Opus WebM, 320×240, 2 s. */
export const vp9Webm = () => makeVideo('webm', (out) => [...SOURCE('320x240', 2), ...TONE(2),
  '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus', '-shortest', out]);

/** A phone-style MOV: 640×360 coded, with a rotation in its display matrix (stream copy writes it). */
export async function rotatedMov(): Promise<Buffer> {
  const mp4 = await h264Mp4();
  const dir = await mkdtemp(join(tmpdir(), 'pictor-tv-'));
  try {
    await writeFile(join(dir, 'in.mp4'), mp4);
    return await makeVideo('mov', (out) => ['-i', join(dir, 'in.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A hostile 2 KiB MP4: 50 tiny frames spread over ten hours (a 25 fps stream with 12-minute gaps).
 * It probes as 36 000 s long, and a constant-frame-rate transcode of it would write ~900 000
 * frames: over the duration limit, and far past any small job timeout.
 */
export const tenHourSparse = () => makeVideo('mp4', (out) => ['-f', 'lavfi', '-i', 'color=c=blue:size=64x64:rate=25:duration=2',
  '-vf', 'setpts=N*(36000/49)/TB', '-vsync', '0', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);

/** Runs ffmpeg on a file and returns stdout (for frames extracted by ffmpeg itself). */
export async function ffmpegOut(args: string[]): Promise<Buffer> {
  const { stdout } = await run(FFMPEG, ['-hide_banner', '-v', 'error', ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface Probed {
  format: { duration: string; format_name: string };
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
}

export async function ffprobeBytes(bytes: Uint8Array, ext: string): Promise<Probed> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-tv-'));
  try {
    const path = join(dir, `x.${ext}`);
    await writeFile(path, bytes);
    const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path]);
    return JSON.parse(stdout) as Probed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes bytes to a temp file for ffmpeg to read; returns the path and a cleanup. */
export async function tempFile(bytes: Uint8Array, ext: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-tv-'));
  const path = join(dir, `x.${ext}`);
  await writeFile(path, bytes);
  return { path, done: () => rm(dir, { recursive: true, force: true }) };
}
