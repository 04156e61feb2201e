import { describe, expect, test } from 'bun:test';
import { parseTransformation } from '../transform/parse';
import { renditionArgs, renditionGeometry } from './geometry';
import { checkVideoOptions } from './grammar';
import { defaultPosterOffset } from './poster';
import { lastLine, readProbe } from './probe';

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000 };
const opts = (s: string) => parseTransformation(s, undefined, limits, new Map()).options;
const src = { width: 1280, height: 720 };

describe('renditionGeometry', () => {
  test('limit (default) fits inside and never enlarges; sides are even', () => {
    expect(renditionGeometry(src, opts('w_320')).size).toEqual({ width: 320, height: 180 });
    expect(renditionGeometry(src, opts('w_4000')).size).toEqual({ width: 1280, height: 720 });
    expect(renditionGeometry(src, opts('w_333')).size).toEqual({ width: 334, height: 188 });
  });
  test('fill crops to the box, pad pads to it, scale stretches', () => {
    expect(renditionGeometry(src, opts('w_200,h_200,c_fill'))).toEqual({ size: { width: 200, height: 200 }, filter: 'scale=356:200,crop=200:200,setsar=1' });
    expect(renditionGeometry(src, opts('w_200,h_200,c_pad')).filter).toBe('scale=200:112,pad=200:200:(ow-iw)/2:(oh-ih)/2,setsar=1');
    expect(renditionGeometry(src, opts('w_200,h_100,c_scale')).size).toEqual({ width: 200, height: 100 });
  });
});

test('renditionArgs: trim, mute, fps and bit-rate caps become ffmpeg arguments (never a shell string)', () => {
  const info = { duration_s: 10, width: 1280, height: 720, rotation: 0, fps: 30, video_codec: 'h264', audio_codec: 'aac', bit_rate: 1, container: 'mp4' };
  const plan = renditionArgs('/in', '/out', info, opts('so_2,eo_5,ac_none,fps_24,br_800k'), 'mp4', 1000);
  expect(plan.duration).toBe(3);
  const a = plan.args;
  expect(a.slice(a.indexOf('-ss'), a.indexOf('-ss') + 2)).toEqual(['-ss', '2']);
  expect(a.slice(a.indexOf('-t'), a.indexOf('-t') + 2)).toEqual(['-t', '3']);
  expect(a).toContain('-an');
  expect(a[a.indexOf('-vf') + 1]).toEndWith(',fps=24');
  expect(a.slice(a.indexOf('-maxrate'), a.indexOf('-maxrate') + 2)).toEqual(['-maxrate', '800000']);
  expect(a.slice(a.indexOf('-fs'), a.indexOf('-fs') + 2)).toEqual(['-fs', '1000']);
  // fps_60 on a 30 fps source does not raise it.
  expect(renditionArgs('/in', '/out', info, opts('fps_60'), 'mp4', 1000).args.join(' ')).not.toContain('fps=');
});

test('readProbe: display size follows the rotation; unreadable answers are reasons, not throws', () => {
  const json = JSON.stringify({
    streams: [
      { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '30000/1001', side_data_list: [{ rotation: -90 }] },
      { codec_type: 'audio', codec_name: 'aac' },
    ],
    format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '3.000000', bit_rate: '1200000' },
  });
  expect(readProbe(json)).toEqual({ ok: true, info: {
    duration_s: 3, width: 360, height: 640, rotation: 90, fps: 29.97, video_codec: 'h264', audio_codec: 'aac', bit_rate: 1200000, container: 'mov,mp4,m4a,3gp,3g2,mj2',
  } });
  expect(readProbe('{"streams":[{"codec_type":"audio","codec_name":"aac"}],"format":{"duration":"1"}}')).toEqual({ ok: false, reason: 'no video stream with a size' });
  expect(readProbe('not json').ok).toBe(false);
});

test('video keys: refused on images, rendition-only keys refused on posters, image-only keys refused on renditions', () => {
  expect(() => checkVideoOptions('image/png', opts('so_1'), undefined)).toThrow(/only on video files/);
  expect(() => checkVideoOptions('video/mp4', opts('br_1m'), undefined)).toThrow(/only in video renditions/);
  expect(() => checkVideoOptions('video/mp4', opts('e_blur:5'), 'mp4')).toThrow(/a video rendition takes only/);
  // An effect's parsed value is an object: not shown as "[object Object]".
  expect(() => checkVideoOptions('video/mp4', opts('w_100,e_brightness:20'), 'mp4')).toThrow('Invalid transformation parameter e: allowed a video rendition takes only w, h, dpr, c, q, so, eo, ac, fps, br.');
  expect(() => checkVideoOptions('video/mp4', opts('w_10,h_10,c_thumb'), 'mp4')).toThrow(/for video/);
  expect(() => checkVideoOptions('video/mp4', opts('w_320,so_1,eo_2,q_70'), 'webm')).not.toThrow();
  expect(() => parseTransformation('so_3,eo_2', undefined, limits, new Map())).toThrow(/after so/);
  expect(() => parseTransformation('br_5', undefined, limits, new Map())).toThrow(/bits per second/);
});

test('the default poster is min(1 s, 10 % of the duration)', () => {
  expect(defaultPosterOffset(60)).toBe(1);
  expect(defaultPosterOffset(3)).toBe(0.3);
});

test('lastLine: ffmpeg\'s last words without the input path or its [codec @ 0x…] tags (a heap address reached anonymous visitors in a 422)', () => {
  expect(lastLine('frame=1\n[h264 @ 0x2504fb00] co located POCs unavailable\n')).toBe('co located POCs unavailable');
  expect(lastLine('/data/files/u/abc: Invalid data found when processing input\n')).toBe('Invalid data found when processing input');
  expect(lastLine('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c1a2b3c0] [h264 @ 0xdeadbeef] moov atom not found')).toBe('moov atom not found');
});
