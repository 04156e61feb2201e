/**
 * Accounts on Deno (embedded defaults): argon2id through the wasm path, JWTs, refresh
 * rotation, API keys and the guard's caches work outside Bun too.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';

setDefaultTimeout(30_000);

let server: RunningServer;
beforeAll(async () => {
  // REQUEST_LOGS=false: the request-log hook (logs/routes.ts) reads `request.body` after the
  // response, which Deno answers with an uncaught "Request closed" that ends the process
  // (reported to the lead); this suite is about accounts.
  server = await startServer({ runtime: 'deno', timeoutMs: 60_000, env: { DISABLE_RATE_LIMIT: 'true', REQUEST_LOGS: 'false' } });
}, 70_000);
afterAll(() => server?.close());

test('Deno: register → login → refresh → API key → profile → revoke', async () => {
  const api = createClient(server.url);
  const email = `deno-${Date.now()}@example.com`;
  expect((await api('POST', '/api/auth/register', { email, password: 'password 123' })).status).toBe(201);
  expect((await api('POST', '/api/auth/login', { email, password: 'wrong password' })).status).toBe(401);
  const login = await api('POST', '/api/auth/login', { email, password: 'password 123' });
  expect(login.status).toBe(200);
  const refreshed = await api('POST', '/api/auth/refresh', { refresh_token: login.body.session.refresh_token });
  expect(refreshed.status).toBe(200);
  const bearer = refreshed.body.session.access_token as string;
  const key = await api('POST', '/api/auth/api-keys', { scopes: ['account:read'] }, { bearer });
  expect(key.status).toBe(201);
  expect((await api('GET', '/api/profile', undefined, { key: key.body.key })).body.user.email).toBe(email);
  const del = await api('DELETE', `/api/auth/api-keys/${key.body.id}`, undefined, { bearer });
  expect(del.status).toBe(204);
  expect((await api('GET', '/api/profile', undefined, { key: key.body.key })).status).toBe(401);
  // The bootstrap admin (hashed on Deno) signs in with the printed password.
  const admin = await api('POST', '/api/auth/login', { email: 'admin@localhost', password: server.bootstrap!.initial_password });
  expect(admin.body.user.role).toBe('admin');
});
