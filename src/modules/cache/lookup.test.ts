/**
 * The delivery lookup cache (lookup.ts): every public URL names a file id, and the answer for
 * an unknown id is remembered briefly, so the cache's keys come from clients. What it may keep
 * of them is bounded by the length of a real id.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { quadrants } from '../../../test/helpers/images';
import { seedFile, seedUser } from '../../../test/helpers/seed';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp();
}, 60_000);
afterAll(() => h.close());

test('an unknown id is remembered briefly; an id longer than any file id is answered without being kept', async () => {
  const lookup = h.deps.delivery.lookup;
  const owner = await seedUser(h.deps);
  const file = await seedFile(h.deps, owner.id, await quadrants(20, 20).png().toBuffer());
  expect((await lookup.get(file.id))?.id).toBe(file.id);
  expect(lookup.peek(file.id)?.value?.id).toBe(file.id);

  expect(await lookup.get('NoSuchFile12')).toBeNull();
  expect(lookup.peek('NoSuchFile12')).toEqual({ value: null }); // spares the database a flood of the same miss

  // A made-up 8 KB "id" in a /t URL used to stay as a cache key (100 000 of them: ~1 GB).
  const long = 'A'.repeat(8000);
  expect(await lookup.get(long)).toBeNull();
  expect(lookup.peek(long)).toBeUndefined();
  expect(await lookup.get('A'.repeat(65))).toBeNull();
  expect(lookup.peek('A'.repeat(65))).toBeUndefined();
});
