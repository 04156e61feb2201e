import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, type FileItem, type Folder, type Page } from '../api';
import { FormDialog } from './Dialog';

const join = (parent: string, name: string) => `${parent === '/' ? '' : parent}/${name.replace(/^\/+|\/+$/g, '')}`;
const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const shown = (path: string) => (path === '/' ? 'the top level' : path);

/** Refused before any request: the server would read an empty name as the folder itself. */
function checkName(name: string, slashes: boolean): void {
  if (!name.trim() || !name.replace(/\//g, '').trim()) throw new Error('Enter a name.');
  if (!slashes && name.includes('/')) throw new Error('A folder name cannot contain “/”.');
}

/**
 * New, rename and delete for the current folder; `missing` (it does not exist) leaves out rename
 * and delete, which could only answer "Folder not found.". `onChanged` gets the folder to show
 * and whether it replaces the one shown in the history (renamed or deleted, the old one is gone).
 */
export function FolderActions({ folder, missing, onChanged }: { folder: string; missing?: boolean; onChanged: (to?: string, replace?: boolean) => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  // A success belongs to the folder its action went to: shown anywhere else, it would speak of
  // something that is not on the page.
  const messageFor = useRef<string | null>(null);
  const say = (to: string, text: string) => {
    messageFor.current = to;
    setMessage({ ok: true, text });
  };
  useEffect(() => {
    if (folder !== messageFor.current) setMessage(null);
  }, [folder]);
  const [dialog, setDialog] = useState<'new' | 'rename' | 'delete' | null>(null);
  const current = folder.slice(folder.lastIndexOf('/') + 1);
  const [name, setName] = useState('');
  const open = (which: 'new' | 'rename' | 'delete') => {
    setMessage(null);
    setName(which === 'rename' ? current : '');
    setDialog(which);
  };

  /**
   * The folder went away under the page (another tab, a script): the dialog closes and the page
   * looks again, and says so, instead of a dialog that stayed open on "Folder not found.".
   */
  const goneElsewhere = (err: unknown): undefined => {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    onChanged();
    return undefined;
  };

  const create = async () => {
    checkName(name, true);
    const created = await api<{ path: string }>('POST', '/api/folders', { path: join(folder, name) });
    say(created.path, `Created ${created.path}.`);
    onChanged(created.path);
  };

  const rename = async () => {
    checkName(name, false);
    if (name.trim() === current) return;
    // One request: the server moves the subfolders and every file with it (PATCH /api/folders).
    const moved = await api<{ path: string }>('PATCH', `/api/folders?path=${encodeURIComponent(folder)}`, { path: join(parentOf(folder), name.trim()) }).catch(goneElsewhere);
    if (!moved) return;
    say(moved.path, `Renamed to ${moved.path}.`);
    onChanged(moved.path, true);
  };

  const remove = async (empty: boolean) => {
    if ((await api('DELETE', `/api/folders?path=${encodeURIComponent(folder)}&recursive=${!empty}`).then(() => true, goneElsewhere)) === undefined) return;
    say(parentOf(folder), `Deleted ${folder}.`);
    onChanged(parentOf(folder), true);
  };

  return (
    <div class="folder-actions">
      <button type="button" onClick={() => open('new')}>New folder</button>
      {folder !== '/' && !missing && (
        <>
          <button type="button" onClick={() => open('rename')}>Rename</button>
          <button type="button" class="danger" onClick={() => open('delete')}>Delete folder</button>
        </>
      )}
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
      {dialog === 'delete' && <DeleteFolderDialog folder={folder} onDelete={remove} onClose={() => setDialog(null)} />}
      {dialog && dialog !== 'delete' && (
        <FormDialog
          title={dialog === 'new' ? `New folder in ${shown(folder)}` : `Rename ${folder}`}
          submit={dialog === 'new' ? 'Create' : 'Rename'}
          onClose={() => setDialog(null)}
          onSubmit={dialog === 'new' ? create : rename}
        >
          <label for="folder-name">Name</label>
          <input id="folder-name" autofocus required maxLength={255} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          <p class="hint">
            {dialog === 'new'
              ? 'A name with “/” makes nested folders: “2026/summer” creates both.'
              : 'Its subfolders and files move with it.'}
          </p>
        </FormDialog>
      )}
    </div>
  );
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** What goes with a folder that is not empty, in words. */
function contents(files: number, folders: number): string {
  if (files === 0) return `It holds ${plural(folders, 'empty subfolder')}. ${folders === 1 ? 'It goes' : 'They go'} with it.`;
  const what = folders === 0 ? plural(files, 'file') : `${plural(folders, 'subfolder')} and ${plural(files, 'file')}, counting those in subfolders`;
  return `It holds ${what}. All of it is deleted with the folder, and this cannot be undone.`;
}

/** What deleting a folder takes with it, counted before asking: its files (at any depth) and its subfolders. */
function DeleteFolderDialog({ folder, onDelete, onClose }: { folder: string; onDelete: (empty: boolean) => Promise<void>; onClose: () => void }) {
  const [holds, setHolds] = useState<{ files: number; folders: number } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const files = api<Page<FileItem>>('GET', `/api/files?${new URLSearchParams({ folder, recursive: 'true', limit: '1' })}`);
    const folders = api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(folder)}`);
    Promise.all([files, folders]).then(([f, d]) => setHolds({ files: f.count, folders: d.results.length }), (err: unknown) => setError(errorText(err)));
  }, [folder]);
  const empty = holds !== null && holds.files === 0 && holds.folders === 0;
  return (
    <FormDialog title={`Delete ${folder}?`} submit="Delete" danger ready={holds !== null} onClose={onClose} onSubmit={() => onDelete(empty)}>
      {error ? <p class="error">{error}</p>
        : holds === null ? <p class="muted">Looking at what it holds…</p>
        : empty ? <p>It is empty.</p>
        : <p>{contents(holds.files, holds.folders)}</p>}
    </FormDialog>
  );
}
