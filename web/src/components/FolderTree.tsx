import { useEffect, useState } from 'preact/hooks';
import { api, type Folder, type Page } from '../api';

/** Whether a folder's own file count is shown (not for one whose files are all in subfolders). */
const counted = (f: Folder) => f.files_count > 0 || f.folders_count === 0;

/** One level of the folder tree; children load when a folder is opened. */
function Level({ parent, current, onPick, version }: { parent: string; current: string; onPick: (p: string) => void; version: number }) {
  const [folders, setFolders] = useState<Folder[] | null>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  useEffect(() => {
    api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(parent)}`)
      .then((p) => setFolders(p.results))
      .catch(() => setFolders([]));
  }, [parent, version]);
  // The path to the current folder stays open.
  useEffect(() => {
    if (folders) setOpen((o) => new Set([...o, ...folders.filter((f) => f.path === current || current.startsWith(`${f.path}/`)).map((f) => f.path)]));
  }, [folders, current]);
  if (!folders?.length) return null;
  return (
    <ul>
      {folders.map((f) => (
        <li key={f.path}>
          <div class={`folder${f.path === current ? ' current' : ''}`}>
            {f.folders_count > 0 ? (
              <button
                type="button"
                class="twisty"
                aria-expanded={open.has(f.path)}
                aria-label={`${open.has(f.path) ? 'Close' : 'Open'} ${f.name}`}
                onClick={() => setOpen((o) => {
                  const n = new Set(o);
                  if (!n.delete(f.path)) n.add(f.path);
                  return n;
                })}
              >
                {open.has(f.path) ? '▾' : '▸'}
              </button>
            ) : <span class="twisty" aria-hidden="true" /> /* nothing below it to open */}
            {/* The number is read out as words ("holidays, 3 files"): "holidays 3" read as part of the name.
                Direct files only: a "0" on a folder whose files are all in its subfolders read as empty, so none is shown then. */}
            <button
              type="button"
              class="link"
              aria-current={f.path === current ? 'page' : undefined}
              aria-label={counted(f) ? `${f.name}, ${f.files_count} ${f.files_count === 1 ? 'file' : 'files'}` : undefined}
              onClick={() => onPick(f.path)}
            >
              {f.name}{counted(f) && <span class="count" title={`${f.files_count} ${f.files_count === 1 ? 'file' : 'files'} directly in it`}>{f.files_count}</span>}
            </button>
          </div>
          {open.has(f.path) && f.folders_count > 0 && <Level parent={f.path} current={current} onPick={onPick} version={version} />}
        </li>
      ))}
    </ul>
  );
}

export function FolderTree({ current, onPick, version }: { current: string; onPick: (p: string) => void; version: number }) {
  return (
    <nav class="tree" aria-label="Folders">
      <div class={`folder${current === '/' ? ' current' : ''}`}>
        <button type="button" class="link" aria-current={current === '/' ? 'page' : undefined} onClick={() => onPick('/')}>Top level (/)</button>
      </div>
      <Level parent="/" current={current} onPick={onPick} version={version} />
    </nav>
  );
}
