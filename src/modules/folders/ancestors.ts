/**
 * A folder exists when it has a row, and so must each of its ancestors: every write that puts a
 * file in a folder or creates one (upload, move, `POST /api/folders`) creates the missing ones
 * here. Its own file, apart from folders/service.ts, because files/service.ts needs it and
 * folders/service.ts needs files/service.ts (recursive delete).
 */
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { folderAncestors, parentOf } from '../files/names';
import { users } from '../users/table';
import { folders } from './table';

/**
 * Serialises the writes that change an account's folder tree (create, move, delete, a file put
 * in a folder) on the account row, which a file's commit locks first anyway. Without it, a file
 * committed into /a/b while /a was deleted kept its row and lost its folders (live, and out of
 * the tree's reach), and moving /a into /b and /b into /a at once did both, neither left under /.
 * Call first in the transaction (the account row, then folder rows: one order).
 */
export async function lockFolderTree(tx: DbOrTx, userId: string): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update');
}

/** Creates `folder` and its missing ancestors (`/` has no row); existing rows are left as they are. */
export async function ensureFolders(tx: DbOrTx, userId: string, folder: string): Promise<void> {
  const paths = folderAncestors(folder);
  if (paths.length === 0) return;
  await tx.insert(folders).values(paths.map((path) => ({ userId, path, parent: parentOf(path) }))).onConflictDoNothing();
}
