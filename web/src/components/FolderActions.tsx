import { useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import { FormDialog } from './Dialog';

const join = (parent: string, name: string) => `${parent === '/' ? '' : parent}/${name.replace(/^\/+|\/+$/g, '')}`;
const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const shown = (path: string) => (path === '/' ? 'the top level' : path);

/** Refused before any request: the server would read an empty name as the folder itself. */
function checkName(name: string, slashes: boolean): void {
  if (!name.trim() || !name.replace(/\//g, '').trim()) throw new Error('Enter a name.');
  if (!slashes && name.includes('/')) throw new Error('A folder name cannot contain “/”.');
}

/** New, rename and delete for the current folder. */
export function FolderActions({ folder, onChanged }: { folder: string; onChanged: (to?: string) => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<'new' | 'rename' | null>(null);
  const current = folder.slice(folder.lastIndexOf('/') + 1);
  const [name, setName] = useState('');
  const open = (which: 'new' | 'rename') => {
    setMessage(null);
    setName(which === 'rename' ? current : '');
    setDialog(which);
  };

  const create = async () => {
    checkName(name, true);
    const created = await api<{ path: string }>('POST', '/api/folders', { path: join(folder, name) });
    onChanged(created.path);
    setMessage({ ok: true, text: `Created ${created.path}.` });
  };

  const rename = async () => {
    checkName(name, false);
    if (name.trim() === current) return;
    // One request: the server moves the subfolders and every file with it (PATCH /api/folders).
    const moved = await api<{ path: string }>('PATCH', `/api/folders?path=${encodeURIComponent(folder)}`, { path: join(parentOf(folder), name.trim()) });
    onChanged(moved.path);
    setMessage({ ok: true, text: `Renamed to ${moved.path}.` });
  };

  const remove = async () => {
    setBusy(true);
    setMessage(null);
    try {
      try {
        await api('DELETE', `/api/folders?path=${encodeURIComponent(folder)}&recursive=false`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err;
        if (!confirm(`${folder} is not empty. Delete it with every file and folder inside? This cannot be undone.`)) {
          setMessage({ ok: true, text: 'Nothing was deleted.' });
          return;
        }
        await api('DELETE', `/api/folders?path=${encodeURIComponent(folder)}&recursive=true`);
      }
      onChanged(parentOf(folder));
      setMessage({ ok: true, text: `Deleted ${folder}.` });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="folder-actions">
      <button type="button" disabled={busy} onClick={() => open('new')}>New folder</button>
      {folder !== '/' && (
        <>
          <button type="button" disabled={busy} onClick={() => open('rename')}>Rename</button>
          <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>Delete folder</button>
        </>
      )}
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
      {dialog && (
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
