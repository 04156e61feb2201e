import { useEffect, useState } from 'preact/hooks';
import { api, type Folder, type Page } from '../api';
import { FolderBrowser, FormDialog } from './Dialog';

/** `a//b/` → `/a/b`, as the server normalises a folder (files/names.ts), for looking it up. */
export const normalFolder = (path: string) => `/${path.split('/').map((p) => p.trim()).filter((p) => p && p !== '.').join('/')}`;

/**
 * What moving to `path` would do with the folders: nothing to say when it exists; otherwise it
 * is created, and a folder that differs only in case is named (names are case-sensitive, and
 * "holidays" next to "Holidays" was made without a word).
 */
function useDestination(path: string): string {
  const [note, setNote] = useState('');
  useEffect(() => {
    const target = normalFolder(path);
    setNote('');
    if (target === '/') return;
    const parent = target.slice(0, target.lastIndexOf('/')) || '/';
    const name = target.slice(target.lastIndexOf('/') + 1);
    let live = true;
    const timer = setTimeout(() => {
      api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(parent)}`).then((p) => {
        if (!live || p.results.some((f) => f.name === name)) return;
        const near = p.results.find((f) => f.name.toLowerCase() === name.toLowerCase());
        setNote(near ? `There is ${near.path}, but no ${target} (names are case-sensitive): moving creates ${target}.` : `${target} does not exist yet: moving creates it.`);
      }, () => undefined); // a path the server refuses is explained when Move is pressed
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path]);
  return note;
}

/** A touch screen: its text fields raise the on-screen keyboard when focused. */
const coarsePointer = () => typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;

/** Where to move the selected files: a path to type, or one picked by walking the folders. */
export function MoveDialog({ count, from, onMove, onClose }: { count: number; from: string; onMove: (to: string) => Promise<void>; onClose: () => void }) {
  const [to, setTo] = useState(from);
  const [coarse] = useState(coarsePointer);
  const note = useDestination(to);
  return (
    <FormDialog title={`Move ${count} ${count === 1 ? 'file' : 'files'}`} focusTitle={coarse} submit="Move" onClose={onClose} onSubmit={() => onMove(to)}>
      <label for="move-to">To folder</label>
      <input id="move-to" autofocus={!coarse} required value={to} aria-describedby="move-to-note" onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
      <p class="hint" id="move-to-note">{note || 'Type a path such as /holidays/2026, or pick a folder below.'}</p>
      <FolderBrowser start={from} onPick={setTo} />
    </FormDialog>
  );
}
