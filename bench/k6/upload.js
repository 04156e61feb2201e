// Small multipart uploads with an API key (default 200 KB JPEG), as a hosted file API sees them.
// env: BASE_URL, API_KEY, FILE (path), VUS, DURATION, P95_MS, P99_MS.
import http from 'k6/http';
import { buildOptions, classify } from './common.js';

const bytes = open(__ENV.FILE, 'b');
export const options = buildOptions();
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }));

export default function () {
  const res = http.post(`${__ENV.BASE_URL}/api/files`, { file: http.file(bytes, 'bench.jpg', 'image/jpeg'), folder: '/bench-uploads' }, {
    headers: { 'X-API-Key': __ENV.API_KEY },
  });
  classify(res);
}
