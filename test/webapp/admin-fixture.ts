/** The server and browser the admin pages' browser tests share: invite-only, with room for many sign-ins. */
import type { Browser } from 'playwright-core';
import { createClient } from '../helpers/client';
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

export async function startAdminFixture(): Promise<AdminFixture> {
  const server = await startServer({ env: { INVITE_ONLY: 'true', RATE_LIMIT_REGISTER: '100/1h', RATE_LIMIT_LOGIN: '100/15m', RATE_LIMIT_SENSITIVE: '100/15m' } });
  return { server, browser: await launch(), base: `http://localhost:${server.port}`, api: createClient(server.url), adminKey: server.bootstrap!.api_key };
}

/** Addresses unique within the run: `tag-<time>-<n>@example.com`. */
export function emailMaker(): (tag: string) => string {
  let seq = 0;
  return (tag) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;
}
