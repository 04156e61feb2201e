/**
 * ffprobe of a stored video: the facts the file object, `/metadata`, posters and renditions
 * need. Bounded in time (`VIDEO_PROBE_TIMEOUT_MS`) and output; anything ffprobe cannot read as
 * a video with a size and a duration is `null` (the caller refuses the upload with 415).
 */
import { runProcess } from '../../platform/child-process';

export interface VideoInfo {
  /** Seconds. */
  duration_s: number;
  /** Displayed size (after rotation). */
  width: number;
  height: number;
  /** Clockwise degrees the player turns the coded frames (0, 90, 180, 270). */
  rotation: number;
  /** Frames per second (average), null when the container does not say. */
  fps: number | null;
  video_codec: string;
  audio_codec: string | null;
  /** Bits per second of the whole file, null when unknown. */
  bit_rate: number | null;
  /** ffprobe's format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`. */
  container: string;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string };
}

export type ProbeResult = { ok: true; info: VideoInfo } | { ok: false; reason: string };

const ratio = (r: string | undefined): number | null => {
  const m = /^(\d+)\/(\d+)$/.exec(r ?? '');
  if (!m || Number(m[2]) === 0) return null;
  const v = Number(m[1]) / Number(m[2]);
  return v > 0 && v < 1000 ? Math.round(v * 1000) / 1000 : null;
};

const num = (s: string | undefined): number | null => {
  const v = Number(s);
  return s !== undefined && Number.isFinite(v) && v > 0 ? v : null;
};

/** Rotation from the `rotate` tag (older muxers) or the display matrix (counter-clockwise in ffprobe). */
function rotationOf(s: ProbeStream): number {
  const tag = s.tags?.rotate;
  const raw = tag !== undefined ? Number(tag) : -(s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? 0);
  const deg = ((Math.round(raw / 90) * 90) % 360 + 360) % 360;
  return Number.isFinite(deg) ? deg : 0;
}

/** Pure: ffprobe's JSON → VideoInfo, or the reason it is not a usable video. */
export function readProbe(json: string): ProbeResult {
  let p: ProbeOutput;
  try {
    p = JSON.parse(json) as ProbeOutput;
  } catch {
    return { ok: false, reason: 'ffprobe gave no readable answer' };
  }
  const v = p.streams?.find((s) => s.codec_type === 'video' && s.width && s.height);
  if (!v?.width || !v.height || !v.codec_name) return { ok: false, reason: 'no video stream with a size' };
  const duration = num(p.format?.duration) ?? num(v.duration);
  if (duration === null) return { ok: false, reason: 'no duration' };
  const rotation = rotationOf(v);
  const swap = rotation % 180 === 90;
  const audio = p.streams?.find((s) => s.codec_type === 'audio');
  const bitRate = num(p.format?.bit_rate);
  return {
    ok: true,
    info: {
      duration_s: Math.round(duration * 1000) / 1000,
      width: swap ? v.height : v.width,
      height: swap ? v.width : v.height,
      rotation,
      fps: ratio(v.avg_frame_rate) ?? ratio(v.r_frame_rate),
      video_codec: v.codec_name,
      audio_codec: audio?.codec_name ?? null,
      bit_rate: bitRate === null ? null : Math.round(bitRate),
      container: p.format?.format_name ?? 'unknown',
    },
  };
}

/** Runs ffprobe on a local path (or URL); never throws for a bad file, only for a missing binary. */
export async function probeVideo(ffprobe: string, input: string, timeoutMs: number): Promise<ProbeResult> {
  const run = await runProcess(ffprobe, [
    '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', input,
  ], { timeoutMs, maxStdoutBytes: 4 * 1024 * 1024 });
  if (run.killed === 'timeout') return { ok: false, reason: `ffprobe did not finish within ${timeoutMs} ms` };
  if (run.killed) return { ok: false, reason: 'ffprobe output too large' };
  if (run.code !== 0) return { ok: false, reason: lastLine(run.stderr) || `ffprobe exited with ${run.code}` };
  return readProbe(run.stdout.toString('utf8'));
}

/**
 * The last non-empty stderr line, without the input path ffmpeg prefixes it with, nor its
 * `[h264 @ 0x2504fb00]` context tags: the line reaches anonymous visitors in a 422, and a tag
 * gives away a heap address of the server's ffmpeg.
 */
export function lastLine(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return line.replace(/\[[^\]]*@ 0x[0-9a-f]+\]\s*/gi, '').replace(/^\S*?: /, '').slice(0, 300);
}
