import { useState } from 'preact/hooks';
import { FolderBrowser, FormDialog } from './Dialog';

/** Where to move the selected files: a path to type, or one picked by walking the folders. */
export function MoveDialog({ count, from, onMove, onClose }: { count: number; from: string; onMove: (to: string) => Promise<void>; onClose: () => void }) {
  const [to, setTo] = useState(from);
  return (
    <FormDialog title={`Move ${count} ${count === 1 ? 'file' : 'files'}`} submit="Move" onClose={onClose} onSubmit={() => onMove(to)}>
      <label for="move-to">To folder</label>
      <input id="move-to" autofocus required value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
      <p class="hint">Type a path such as /holidays/2026 (a folder that does not exist yet is created), or pick one below.</p>
      <FolderBrowser start={from} onPick={setTo} />
    </FormDialog>
  );
}
