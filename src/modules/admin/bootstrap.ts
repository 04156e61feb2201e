/**
 * First start (API.md §2): when there are no users, create an admin from ADMIN_EMAIL /
 * ADMIN_PASSWORD, or `admin@localhost` with a random password, and print the password and a
 * ready API key once, so a new user can `curl` straight away. The server calls it only once
 * it listens (boot.ts), so a failed start prints no credentials. Safe when several instances
 * boot together: the unique email index lets exactly one insert win.
 */
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { randomString } from '../../lib/random';
import { hashPassword } from '../../platform/password';
import { createApiKey } from '../keys/service';
import { SCOPES } from '../keys/scopes';
import { normalizeEmail } from '../users/model';
import { users } from '../users/table';

export interface BootstrapResult {
  email: string;
  password?: string;
  apiKey: string;
}

export async function bootstrapAdmin(deps: AppDeps): Promise<BootstrapResult | null> {
  const { db, config, log } = deps;
  const [{ count } = { count: 0 }] = await db.select({ count: sql<number>`count(*)::int` }).from(users);
  if (count > 0) return null;
  const email = normalizeEmail(config.adminEmail ?? 'admin@localhost');
  const generated = config.adminPassword ? undefined : randomString(20);
  const passwordHash = await hashPassword(config.adminPassword ?? (generated as string));
  const created = await db.transaction(async (tx) => {
    const [admin] = await tx
      .insert(users)
      .values({ email, passwordHash, role: 'admin', emailVerified: true })
      .onConflictDoNothing()
      .returning();
    if (!admin) return null; // another instance won the race
    const { key } = await createApiKey(tx, admin.id, { name: 'bootstrap', scopes: [...SCOPES] });
    return { email, password: generated, apiKey: key };
  });
  // Printed after the commit: credentials are shown only for an admin that exists.
  if (created) {
    log.warn(
      { bootstrap: { email, initial_password: generated ?? '(from ADMIN_PASSWORD)', api_key: created.apiKey } },
      'Created the bootstrap admin. This is shown once: store the password and API key now.',
    );
  }
  return created;
}
