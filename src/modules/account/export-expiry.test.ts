/**
 * An export whose job died on its last attempt after storing the archive, before its row said
 * so: the row stayed `running` with no `storage_key`, and the expiry sweep skipped `running`
 * rows and deleted only keys rows named, so the archive of the account's files stayed for good.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedUser } from '../../../test/helpers/seed';
import { expireExports } from './export';
import { accountExports } from './table';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' } });
});
afterAll(() => h?.close());

test('an expired export still `running` (its job died) loses its row and the archive it stored', async () => {
  const u = await seedUser(h.deps);
  const [e] = await h.deps.db.insert(accountExports).values({ userId: u.id, status: 'running', expiresAt: new Date(h.deps.clock.now() - 1000) }).returning();
  const key = `exports/${u.id}/${e!.id}.zip`;
  await h.deps.storage.put(key, new Blob(['PK an archive']).stream(), { contentType: 'application/zip' });
  expect(await h.deps.storage.head(key)).not.toBeNull();
  expect(await expireExports(h.deps)).toBe(1);
  expect(await h.deps.db.select().from(accountExports).where(eq(accountExports.id, e!.id))).toHaveLength(0);
  expect(await h.deps.storage.head(key)).toBeNull();
});
