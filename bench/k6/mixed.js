// A realistic image-host profile: 95 % derivative cache hits, 4 % misses (new sizes of real
// photos, so real transforms), 1 % small uploads. 429/503 are intended answers under overload.
// env: URLS_FILE (hit URLs), MISS_FILE (JSON {base, ids}), BASE_URL, API_KEY, FILE, VUS, DURATION.
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import { buildOptions, classify, iterationIndex } from './common.js';

const hits = new SharedArray('hits', () => JSON.parse(open(__ENV.URLS_FILE)));
const miss = JSON.parse(open(__ENV.MISS_FILE));
const bytes = open(__ENV.FILE, 'b');
export const options = buildOptions();
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }, 429, 503));

export default function () {
  const i = iterationIndex();
  const roll = (i * 7919) % 100; // deterministic spread: 0 → upload, 1..4 → miss, rest → hit
  if (roll === 0) {
    classify(http.post(`${__ENV.BASE_URL}/api/files`, { file: http.file(bytes, 'mixed.jpg', 'image/jpeg') }, { headers: { 'X-API-Key': __ENV.API_KEY } }));
  } else if (roll <= 4) {
    const id = miss.ids[i % miss.ids.length];
    // q_71 is used by no other scenario, so these are real misses (a few repeat: that is realistic).
    const w = 100 + ((i * 37 + __VU * 1009) % 1800);
    classify(http.get(`${miss.base}/t/w_${w},q_71,f_webp/${id}`));
  } else {
    classify(http.get(hits[i % hits.length]));
  }
}
