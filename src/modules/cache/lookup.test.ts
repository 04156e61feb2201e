/**
 * The delivery lookup cache (lookup.ts): every public URL names a file id, and the answer for
 * an unknown id is remembered briefly, so the cache's keys come from clients. What it may keep
 * of them is bounded by the length of a real id.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { quadrants } from '../../../test/helpers/images';
import { seedFile, seedUser } from '../../../test/helpers/seed';
import { createFileLookup, type FileLookup } from './lookup';

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

test('a load that raced a change answers its caller but is not kept, and who asks after the change reads again', async () => {
  // A row read just before a file was made private was kept for the TTL (60 s): the file served on.
  const row = (isPublic: boolean): FileLookup => ({
    id: 'RacedFile012', userId: 'u', sha256: 'a'.repeat(64), storageKey: 'k', contentType: 'image/png', size: 1, isPublic,
    ownerBanned: false, expiresAt: null, name: 'x.png', createdAt: new Date(), publicStorageKey: null, publicSha256: null,
  });
  let release: (v: FileLookup) => void = () => {};
  const loads: string[] = [];
  const lookup = createFileLookup(h.deps, async () => {}, (id) => {
    loads.push(id);
    return loads.length === 1 ? new Promise<FileLookup>((resolve) => (release = resolve)) : Promise.resolve(row(false));
  });
  await lookup.ready;
  const before = lookup.get('RacedFile012'); // reads the row as it was…
  await lookup.invalidate({ id: 'RacedFile012' }); // …then the file is made private
  const after = lookup.get('RacedFile012');
  release(row(true));
  expect((await before)?.isPublic).toBe(true);
  expect((await after)?.isPublic).toBe(false);
  expect(loads).toHaveLength(2);
  expect(lookup.peek('RacedFile012')?.value?.isPublic).toBe(false);
});
