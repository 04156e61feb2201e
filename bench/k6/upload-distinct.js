// Distinct small multipart uploads with an API key: every request's bytes differ, as a photo
// pipeline's do (no two uploads share a sha256). FILE holds a 16-byte ASCII slot at SLOT_OFFSET
// (a JPEG COM segment, or the first bytes of a text file) that each iteration overwrites with
// this VU's run salt, VU number and iteration before it posts.
// env: BASE_URL, API_KEY, FILE, NAME, TYPE, SLOT_OFFSET, VUS, DURATION, P95_MS, P99_MS.
import http from 'k6/http';
import { buildOptions, classify } from './common.js';

const buffer = open(__ENV.FILE, 'b');
const view = new Uint8Array(buffer);
const offset = Number(__ENV.SLOT_OFFSET || 0);
const salt = Date.now().toString(36);
export const options = buildOptions();
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }));

export default function () {
  const stamp = `${salt}.${__VU}.${__ITER}`.padEnd(16, '.').slice(-16);
  for (let i = 0; i < 16; i++) view[offset + i] = stamp.charCodeAt(i);
  const res = http.post(`${__ENV.BASE_URL}/api/files`, { file: http.file(buffer, __ENV.NAME, __ENV.TYPE), folder: '/bench-distinct' }, {
    headers: { 'X-API-Key': __ENV.API_KEY },
  });
  classify(res);
}
