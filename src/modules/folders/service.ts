/**
 * Folders (API.md §4): normalised absolute paths per account. A folder exists when it has a
 * row; uploads and moves create missing ancestors, `POST /api/folders` creates one explicitly.
 * Deleting a non-empty folder needs `recursive`, which soft-deletes every file below it in the
 * same transaction as the folder rows (their `purge` jobs enqueued with them). Moving (renaming)
 * a folder rewrites the paths of its subtree and its files in one transaction.
 */
import { and, asc, eq, inArray, isNull, like, or, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { conflict, notFound, validationError } from '../../errors';
import { forgetFiles } from '../files/invalidate';
import { MAX_FOLDER_BYTES, MAX_FOLDER_DEPTH, normalizeFolder, parentOf, utf8Bytes } from '../files/names';
import { softDeleteFiles } from '../files/service';
import { files } from '../files/table';
import { ensureFolders, lockFolderTree } from './ancestors';
import { folders } from './table';
import { refuseWatermarkDeletes } from '../transform/watermarks';
import { escapeLike } from '../../lib/sql-like';

export interface FolderJson {
  path: string;
  name: string;
  parent: string;
  files_count: number;
  folders_count: number;
  created_at: string;
}

const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
/** The path itself and everything below it. */
const subtree = (col: typeof folders.path | typeof files.folder, path: string) =>
  or(eq(col, path), like(col, `${escapeLike(path)}/%`))!;

/** Live (not deleted) files directly in each of `paths`. */
async function countFiles(deps: AppDeps, userId: string, paths: string[]): Promise<Map<string, number>> {
  if (paths.length === 0) return new Map();
  const rows = await deps.db
    .select({ folder: files.folder, n: sql<number>`count(*)::int` })
    .from(files)
    .where(and(eq(files.userId, userId), isNull(files.deletedAt), inArray(files.folder, paths)))
    .groupBy(files.folder);
  return new Map(rows.map((r) => [r.folder, Number(r.n)]));
}

/** Direct subfolders of each of `paths` (what a tree needs to know whether a folder opens). */
async function countSubfolders(deps: AppDeps, userId: string, paths: string[]): Promise<Map<string, number>> {
  if (paths.length === 0) return new Map();
  const rows = await deps.db
    .select({ parent: folders.parent, n: sql<number>`count(*)::int` })
    .from(folders)
    .where(and(eq(folders.userId, userId), inArray(folders.parent, paths)))
    .groupBy(folders.parent);
  return new Map(rows.map((r) => [r.parent, Number(r.n)]));
}

/** Folder rows as the API shows them, with their counts (two grouped queries for the lot). */
async function toJson(deps: AppDeps, userId: string, rows: { path: string; parent: string; createdAt: Date }[]): Promise<FolderJson[]> {
  const paths = rows.map((r) => r.path);
  const [filesIn, foldersIn] = await Promise.all([countFiles(deps, userId, paths), countSubfolders(deps, userId, paths)]);
  return rows.map((r) => ({
    path: r.path, name: nameOf(r.path), parent: r.parent,
    files_count: filesIn.get(r.path) ?? 0, folders_count: foldersIn.get(r.path) ?? 0, created_at: r.createdAt.toISOString(),
  }));
}

/** Creates a folder (and its missing ancestors); 409 when it already exists. */
export async function createFolder(deps: AppDeps, userId: string, rawPath: string): Promise<FolderJson> {
  const path = normalizeFolder(rawPath, 'path', true);
  // Only `/` itself names the root; blank text names no folder at all.
  if (rawPath.trim() === '') throw validationError('The folder path is empty.', [{ path: '/path', message: 'must name a folder, such as /holidays/2026' }]);
  if (path === '/') throw conflict('The root folder always exists.');
  const created = await deps.db.transaction(async (tx) => {
    await lockFolderTree(tx, userId);
    await ensureFolders(tx, userId, parentOf(path));
    const [row] = await tx.insert(folders).values({ userId, path, parent: parentOf(path) }).onConflictDoNothing().returning();
    return row;
  });
  if (!created) throw conflict(`The folder ${path} already exists.`);
  return { path, name: nameOf(path), parent: created.parent, files_count: 0, folders_count: 0, created_at: created.createdAt.toISOString() };
}

/** The direct subfolders of `parent` (default `/`), by path, each with its own file count. */
export async function listFolders(deps: AppDeps, userId: string, rawParent?: string): Promise<{ results: FolderJson[]; count: number }> {
  const parent = normalizeFolder(rawParent, 'parent');
  const rows = await deps.db.select().from(folders)
    .where(and(eq(folders.userId, userId), eq(folders.parent, parent)))
    .orderBy(asc(folders.path));
  const results = await toJson(deps, userId, rows);
  return { results, count: results.length };
}

/**
 * Deletes a folder. Without `recursive`, only an empty one (no subfolders, no live files);
 * with it, the whole subtree and every file in it. Returns how many files were deleted.
 */
export async function deleteFolder(deps: AppDeps, userId: string, rawPath: string, recursive: boolean): Promise<number> {
  const path = normalizeFolder(rawPath, 'path');
  if (path === '/') throw validationError('The root folder cannot be deleted.', [{ path: '/path', message: 'root' }]);
  const now = new Date(deps.clock.now());
  const deleted = await deps.db.transaction(async (tx) => {
    await lockFolderTree(tx, userId);
    const [own] = await tx.select({ path: folders.path }).from(folders)
      .where(and(eq(folders.userId, userId), eq(folders.path, path))).for('update');
    if (!own) throw notFound('Folder');
    const live = await tx.select({ id: files.id }).from(files)
      .where(and(eq(files.userId, userId), isNull(files.deletedAt), subtree(files.folder, path)));
    const [sub] = await tx.select({ n: sql<number>`count(*)::int` }).from(folders)
      .where(and(eq(folders.userId, userId), like(folders.path, `${escapeLike(path)}/%`)));
    if (!recursive && (live.length > 0 || Number(sub?.n ?? 0) > 0)) {
      throw conflict(`The folder ${path} is not empty (${live.length} files, ${Number(sub?.n ?? 0)} subfolders); pass recursive=true to delete it with its contents.`);
    }
    await refuseWatermarkDeletes(tx, userId, live.map((f) => f.id));
    const ids: string[] = [];
    for (let i = 0; i < live.length; i += 500) {
      ids.push(...await softDeleteFiles(tx, userId, live.slice(i, i + 500).map((f) => f.id), now));
    }
    await tx.delete(folders).where(and(eq(folders.userId, userId), subtree(folders.path, path)));
    return ids;
  });
  await forgetFiles(deps, deleted); // delivery on every instance forgets them
  return deleted.length;
}

/**
 * Moves (renames) a folder with everything below it: subfolders keep their place under it and
 * every file in the subtree follows, in one transaction, so a reader sees the old tree or the
 * new one. 404 when the folder does not exist, 409 when `to` does, 400 for the root, the same
 * path, a path inside the folder itself, or one that would make a moved path too deep or long.
 * Returns the folder at its new path.
 */
export async function moveFolder(deps: AppDeps, userId: string, rawPath: string, rawTo: string): Promise<FolderJson> {
  const path = normalizeFolder(rawPath, 'path');
  const to = normalizeFolder(rawTo, 'path', true);
  const refuse = (message: string) => validationError(`Cannot move ${path} to ${to}: ${message}.`, [{ path: '/path', message }]);
  if (path === '/') throw validationError('The root folder cannot be moved.', [{ path: '/path', message: 'root' }]);
  if (to === '/') throw refuse('the root folder always exists');
  if (to === path) throw refuse('it is already there');
  if (to.startsWith(`${path}/`)) throw refuse('a folder cannot go inside itself');
  const moved = (p: string) => to + p.slice(path.length);
  const row = await deps.db.transaction(async (tx) => {
    await lockFolderTree(tx, userId);
    const [own] = await tx.select({ path: folders.path }).from(folders).where(and(eq(folders.userId, userId), eq(folders.path, path)));
    if (!own) throw notFound('Folder');
    const [taken] = await tx.select({ path: folders.path }).from(folders).where(and(eq(folders.userId, userId), eq(folders.path, to)));
    if (taken) throw conflict(`The folder ${to} already exists.`);
    // Every folder that has a live file has a row (ancestors.ts), so the deepest and longest moved paths are among the rows.
    const tree = await tx.select({ path: folders.path }).from(folders).where(and(eq(folders.userId, userId), subtree(folders.path, path)));
    for (const { path: p } of tree) {
      const next = moved(p);
      if (next.split('/').length - 1 > MAX_FOLDER_DEPTH) throw refuse(`${next} would be more than ${MAX_FOLDER_DEPTH} levels deep`);
      if (utf8Bytes(next) > MAX_FOLDER_BYTES) throw refuse(`${next.slice(0, 60)}… would be longer than ${MAX_FOLDER_BYTES} bytes (UTF-8)`);
    }
    await ensureFolders(tx, userId, parentOf(to));
    // The rest after the old prefix, counted in characters by the database (JavaScript's length counts an emoji as two).
    const cut = sql`char_length(${path}::text) + 1`;
    await tx.update(folders).set({
      path: sql`${to}::text || substr(${folders.path}, ${cut})`,
      parent: sql`case when ${folders.path} = ${path} then ${parentOf(to)}::text else ${to}::text || substr(${folders.parent}, ${cut}) end`,
    }).where(and(eq(folders.userId, userId), subtree(folders.path, path)));
    await tx.update(files).set({ folder: sql`${to}::text || substr(${files.folder}, ${cut})`, updatedAt: new Date(deps.clock.now()) })
      .where(and(eq(files.userId, userId), isNull(files.deletedAt), subtree(files.folder, path)));
    const [created] = await tx.select().from(folders).where(and(eq(folders.userId, userId), eq(folders.path, to)));
    return created!;
  });
  return (await toJson(deps, userId, [row]))[0]!;
}
