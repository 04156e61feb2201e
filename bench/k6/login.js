// Password logins: the argon2id cost per request. env: BASE_URL, EMAIL, PASSWORD, VUS, DURATION.
import http from 'k6/http';
import { buildOptions, classify } from './common.js';

export const options = buildOptions();
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }));
const body = JSON.stringify({ email: __ENV.EMAIL, password: __ENV.PASSWORD });

export default function () {
  classify(http.post(`${__ENV.BASE_URL}/api/auth/login`, body, { headers: { 'Content-Type': 'application/json' } }));
}
