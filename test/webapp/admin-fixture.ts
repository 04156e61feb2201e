/** The server and browser the admin pages' browser tests share: invite-only, with room for many sign-ins. */
import { afterAll, beforeAll, expect } from 'bun:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { launch } from './browser';

export interface AdminFixture {
  server: RunningServer;
  browser: Browser;
  /** The app's address as a browser uses it. */
  base: string;
  api: ReturnType<typeof createClient>;
  adminKey: string;
}

/** `env` adds to (or overrides) the server's settings. */
export async function startAdminFixture(env: Record<string, string> = {}): Promise<AdminFixture> {
  const server = await startServer({ env: { INVITE_ONLY: 'true', RATE_LIMIT_REGISTER: '100/1h', RATE_LIMIT_LOGIN: '100/15m', RATE_LIMIT_SENSITIVE: '100/15m', ...env } });
  return { server, browser: await launch(), base: `http://localhost:${server.port}`, api: createClient(server.url), adminKey: server.bootstrap!.api_key };
}

/** The fixture of one test file, with the bootstrap admin's id and a way to sign up accounts on it. */
export interface FileFixture extends AdminFixture {
  adminId: string;
  signUp(tag: string, role?: 'user' | 'admin'): Promise<Account>;
}

/**
 * Starts the fixture before the file's tests and closes it after them (the setup each browser
 * test file wrote out). Its fields are set once `beforeAll` has run: read them inside tests.
 */
export function useAdminFixture(env: Record<string, string> = {}): FileFixture {
  const email = emailMaker();
  const fx = {} as FileFixture;
  beforeAll(async () => {
    Object.assign(fx, await startAdminFixture(env));
    fx.adminId = (await fx.api('GET', '/api/profile', undefined, { key: fx.adminKey })).body.user.id;
    fx.signUp = (tag, role = 'user') => signUpIn(fx, fx.adminId, email(tag), role);
  }, 120_000);
  afterAll(async () => {
    await fx.browser?.close();
    await fx.server?.close();
  });
  return fx;
}

/** Addresses unique within the run: `tag-<time>-<n>@example.com`. */
export function emailMaker(): (tag: string) => string {
  let seq = 0;
  return (tag) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;
}

export interface Account {
  email: string;
  id: string;
  headers: Headers;
  /** The session's cookie and CSRF headers, for calls of one's own. */
  auth: Record<string, string>;
  /** Stores a file through the API (raw body); `query` holds folder, is_public… */
  upload: (name: string, type: string, body: string | Buffer, query?: Record<string, string>) => Promise<{ id: string; name: string }>;
  folder: (path: string) => Promise<void>;
  /** A signed-in browser context; under 500 px wide, or with `touch`, a touch screen's. */
  context: (viewport?: { width: number; height: number }, touch?: boolean) => Promise<BrowserContext>;
}

/** A new account on the fixture's invite-only server (an admin when `role` says so), with the session's cookies. */
export async function signUpIn(fx: AdminFixture, adminId: string, address: string, role: 'user' | 'admin' = 'user'): Promise<Account> {
  const { api, adminKey, base, browser } = fx;
  const inv = await api('POST', `/api/admin/users/${adminId}/invites`, { count: 1 }, { key: adminKey });
  expect(inv.status).toBe(201);
  const res = await api('POST', '/api/auth/register', { email: address, password: 'correct horse 1', invite_code: inv.body.results[0].code });
  expect(res.status).toBe(201);
  const id = res.body.user.id as string;
  if (role === 'admin') expect((await api('POST', `/api/admin/users/${id}/role`, { role: 'admin' }, { key: adminKey })).status).toBe(200);
  const { header, map } = cookiesOf(res.headers);
  const auth = { cookie: header, 'x-csrf-token': map.pictor_csrf! };
  return {
    email: address,
    id,
    headers: res.headers,
    auth,
    upload: async (name, type, body, query = {}) => {
      const r = await fetch(`${base}/api/files?${new URLSearchParams(query)}`, { method: 'POST', headers: { ...auth, 'content-type': type, 'x-file-name': name }, body: typeof body === 'string' ? body : new Uint8Array(body) });
      expect(r.status).toBe(201);
      return ((await r.json()) as { file: { id: string; name: string } }).file;
    },
    folder: async (path) => {
      const r = await fetch(`${base}/api/folders`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
      expect(r.status).toBe(201);
    },
    context: async (viewport = { width: 1280, height: 800 }, touch = viewport.width < 500) => {
      const context = await browser.newContext(touch ? { viewport, isMobile: true, hasTouch: true } : { viewport });
      await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
      return context;
    },
  };
}
