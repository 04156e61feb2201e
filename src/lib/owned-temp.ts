/**
 * Temp files named after the process writing them (`<host>~<pid>~<anything>`,
 * platform/process-owner.ts), in a folder several processes share (WORKERS=N, or containers on
 * one volume): a process cleans up after dead ones without ever removing a file a live sibling
 * is still writing (issue #17.6; a restarting worker used to empty the whole folder).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_TAG, isProcessAlive, killProcessesNaming, ownTag, parseOwnerTag } from '../platform/process-owner';

/** A fresh temp file name owned by this process. */
export const ownedTempName = (random: string): string => `${ownTag()}~${random}`;

/**
 * Removes the entries of `dir` no live writer can own: those of this host's dead processes; at
 * start-up (`atStart`) also this pid's, which an earlier process with the same pid left (pid 1
 * in a restarted container); and, given `olderThan`, any other entry last modified before it
 * (another host's, a reused pid's, an older naming), after killing the processes on this host
 * whose command line names one. Returns how many.
 */
export async function sweepOwnedTemp(dir: string, o: { atStart: boolean; olderThan?: Date }): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const abandonedPaths: string[] = [];
  for (const name of names) {
    const owner = parseOwnerTag(name.slice(0, name.lastIndexOf('~')));
    const ours = owner?.host === HOST_TAG;
    const self = ours && owner.pid === process.pid;
    let abandoned = ours && (self ? o.atStart : !isProcessAlive(owner.pid));
    if (!abandoned && o.olderThan && !self) {
      const s = await stat(join(dir, name)).catch(() => null);
      abandoned = s !== null && s.mtimeMs < o.olderThan.getTime();
    }
    if (abandoned) abandonedPaths.push(join(dir, name));
  }
  // A crashed writer's child (ffmpeg) may still be writing one: stopped first, or it would go on
  // filling a file no directory lists.
  await killProcessesNaming(abandonedPaths);
  for (const path of abandonedPaths) await rm(path, { recursive: true, force: true });
  return abandonedPaths.length;
}
