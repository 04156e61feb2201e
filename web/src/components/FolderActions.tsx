import { useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';

const join = (parent: string, name: string) => `${parent === '/' ? '' : parent}/${name.replace(/^\/+|\/+$/g, '')}`;
const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';

/** New, rename and delete for the current folder. */
export function FolderActions({ folder, onChanged }: { folder: string; onChanged: (to?: string) => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ ok: true, text: await fn() });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  const create = () => {
    const name = prompt(`Name of the new folder inside ${folder}`);
    if (!name) return;
    void run(async () => {
      const path = join(folder, name);
      await api('POST', '/api/folders', { path });
      onChanged(path);
      return `Created ${path}.`;
    });
  };

  const rename = () => {
    const current = folder.slice(folder.lastIndexOf('/') + 1);
    const name = prompt('New name of this folder', current);
    if (name === null || name.trim() === current) return;
    void run(async () => {
      // One request: the server moves the subfolders and every file with it (PATCH /api/folders).
      const moved = await api<{ path: string }>('PATCH', `/api/folders?path=${encodeURIComponent(folder)}`, { path: join(parentOf(folder), name) });
      onChanged(moved.path);
      return `Renamed to ${moved.path}.`;
    });
  };

  const remove = () => {
    void run(async () => {
      try {
        await api('DELETE', `/api/folders?path=${encodeURIComponent(folder)}&recursive=false`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err;
        if (!confirm(`${folder} is not empty. Delete it with every file and folder inside? This cannot be undone.`)) return 'Nothing was deleted.';
        await api('DELETE', `/api/folders?path=${encodeURIComponent(folder)}&recursive=true`);
      }
      onChanged(parentOf(folder));
      return `Deleted ${folder}.`;
    });
  };

  return (
    <div class="folder-actions">
      <button type="button" disabled={busy} onClick={create}>New folder</button>
      {folder !== '/' && (
        <>
          <button type="button" disabled={busy} onClick={rename}>Rename</button>
          <button type="button" class="danger" disabled={busy} onClick={remove}>Delete folder</button>
        </>
      )}
      {message && <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p>}
    </div>
  );
}
