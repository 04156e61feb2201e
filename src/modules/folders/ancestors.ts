/**
 * A folder exists when it has a row, and so must each of its ancestors: every write that puts a
 * file in a folder or creates one (upload, move, `POST /api/folders`) creates the missing ones
 * here. Its own file, apart from folders/service.ts, because files/service.ts needs it and
 * folders/service.ts needs files/service.ts (recursive delete).
 */
import type { DbOrTx } from '../../db/client';
import { folderAncestors, parentOf } from '../files/names';
import { folders } from './table';

/** Creates `folder` and its missing ancestors (`/` has no row); existing rows are left as they are. */
export async function ensureFolders(tx: DbOrTx, userId: string, folder: string): Promise<void> {
  const paths = folderAncestors(folder);
  if (paths.length === 0) return;
  await tx.insert(folders).values(paths.map((path) => ({ userId, path, parent: parentOf(path) }))).onConflictDoNothing();
}
