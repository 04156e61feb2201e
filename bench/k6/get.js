// GET a list of URLs round-robin (cache hits, originals, API list pages, and the baselines,
// which get the very same script, connection count and payloads).
// env: URLS_FILE (JSON array of URLs), HEADERS (JSON object), VUS, DURATION | ITERATIONS, P95_MS, P99_MS, ALLOW_STATUS.
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import { buildOptions, classify, iterationIndex } from './common.js';

const urls = new SharedArray('urls', () => JSON.parse(open(__ENV.URLS_FILE)));
const headers = __ENV.HEADERS ? JSON.parse(__ENV.HEADERS) : {};

export const options = buildOptions();
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }));

export default function () {
  const url = urls[iterationIndex() % urls.length];
  classify(http.get(url, { headers }));
}
