/**
 * Which files an upload is a copy of (the uploader's "already in your library"): only files stored
 * before it. Two equal files sent together, both finished before either asked, were each said to
 * be a copy of the other (the folder-picker browser test caught it).
 */
import { expect, test } from 'bun:test';
import { earlierCopies } from '../../web/src/upload-queue';

const f = (id: string, at: string) => ({ id, name: `${id}.png`, folder: '/', created_at: `2026-12-06T08:00:${at}.000Z` });

test('of two equal files stored together, only the later one has a copy', () => {
  const [a, b] = [f('a', '01'), f('b', '02')];
  const list = { results: [a, b], count: 2 };
  expect(earlierCopies(a, list)).toBeNull();
  expect(earlierCopies(b, list)).toEqual({ copies: [{ id: 'a', name: 'a.png', folder: '/' }], total: 1 });
});

test('at most three are named; the total counts the rest, on the page or past it', () => {
  const older = ['01', '02', '03', '04'].map((at, i) => f(`o${i}`, at));
  const mine = f('mine', '09');
  // Oldest page of four, this file past it: every other file counts.
  expect(earlierCopies(mine, { results: older, count: 6 })).toEqual({ copies: older.slice(0, 3).map(({ id, name, folder }) => ({ id, name, folder })), total: 5 });
  // This file on the page: those before it, exactly.
  expect(earlierCopies(older[2]!, { results: older, count: 9 })?.total).toBe(2);
});
