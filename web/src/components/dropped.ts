/**
 * What a drop brings: its files, and the files inside a dropped folder with their path in it. A
 * drop's `dataTransfer.files` holds a dropped folder as one entry without its contents (it was
 * uploaded as a file, or not at all); its entries (`webkitGetAsEntry`, the File and Directory
 * Entries API every browser has) can be walked. The folder picker gives `webkitRelativePath`;
 * a dropped folder's files get the same path here (`relativePathOf`).
 */

/** The part of `FileSystemEntry` a walk needs. */
export interface DroppedEntry {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
  file?(success: (file: File) => void, failure?: (err: DOMException) => void): void;
  createReader?(): { readEntries(success: (entries: DroppedEntry[]) => void, failure?: (err: DOMException) => void): void };
}

const paths = new WeakMap<File, string>();

/** A file's path under the folder picked or dropped (`holiday/day 1/a.jpg`); '' for a file given alone. */
export const relativePathOf = (file: File): string => file.webkitRelativePath || paths.get(file) || '';

/** What a drop brought: its files, and how many entries could not be read (a broken link, a file gone meanwhile). */
export interface Dropped {
  files: File[];
  unreadable: number;
}

/** Every file under `entries`, depth first, each knowing its path (`relativePathOf`); one that cannot be read is counted, not fatal. */
export async function filesOfEntries(entries: readonly DroppedEntry[], prefix = '', out: Dropped = { files: [], unreadable: 0 }): Promise<Dropped> {
  for (const entry of entries) {
    const path = `${prefix}${entry.name}`;
    try {
      if (entry.isFile && entry.file) {
        const file = await new Promise<File>((resolve, reject) => entry.file!(resolve, reject));
        if (prefix) paths.set(file, path);
        out.files.push(file);
      } else if (entry.isDirectory && entry.createReader) {
        const reader = entry.createReader();
        // A reader answers in batches (100 at a time in Chromium, all at once elsewhere) until an empty one.
        for (;;) {
          const batch = await new Promise<DroppedEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
          if (batch.length === 0) break;
          await filesOfEntries(batch, `${path}/`, out);
        }
      }
    } catch {
      out.unreadable++;
    }
  }
  return out;
}

/**
 * The files of a drop event. Its entries are read while the event runs (the list is emptied
 * once the handler returns); a drop without folders is its `files` as they are.
 */
export async function filesOfDrop(data: DataTransfer | null): Promise<Dropped> {
  const items = [...(data?.items ?? [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => i.webkitGetAsEntry?.() as DroppedEntry | null | undefined);
  if (!entries.some((e) => e?.isDirectory)) return { files: [...(data?.files ?? [])], unreadable: 0 };
  // An item without an entry is still a file (taken now: the list empties once the event is over).
  const loose = items.flatMap((item, i) => (entries[i] ? [] : [item.getAsFile()])).filter((f): f is File => f !== null);
  const walked = await filesOfEntries(entries.filter((e): e is DroppedEntry => !!e));
  return { files: [...walked.files, ...loose], unreadable: walked.unreadable };
}
