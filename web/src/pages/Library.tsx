import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, type FileItem, type Folder, type Page } from '../api';
import { FileGrid } from '../components/FileGrid';
import { FolderActions } from '../components/FolderActions';
import { FolderTree } from '../components/FolderTree';
import { LinkBaseNotice } from '../components/LinkBaseNotice';
import { Fold, useNarrow } from '../components/Fold';
import { FormDialog } from '../components/Dialog';
import { MoveDialog, normalFolder } from '../components/MoveDialog';
import { Uploader } from '../components/Uploader';
import { filesOfDrop } from '../components/dropped';
import { onFileUploaded, onListStale } from '../upload-queue';
import { entryState, navigate, reachedByHistory, rememberInEntry, takeMessage, type Route } from '../router';
import { rememberLibraryView } from '../library-return';

const TYPES = [
  ['', 'All types'],
  ['image/*', 'Images'],
  ['video/*', 'Videos'],
  ['application/*', 'Documents and archives'],
  ['text/*', 'Text'],
] as const;
/** The list's largest page (API.md: `limit` 1–200). */
const MAX_PAGE = 200;
/** `POST /api/files/bulk-delete` takes at most this many ids. */
const BULK_DELETE_MAX = 100;
/** PATCHes in flight at once for a bulk change (a browser opens about six connections per host anyway). */
const PATCH_AT_ONCE = 6;
const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
/** What to change when the filters find nothing: the filters that are set, named. */
function clearHint(f: { q: string; tag: string; type: string; visibility: string }): string {
  const set = [f.q && 'the search', f.tag && 'the tags', f.type && 'the type', f.visibility && `“${f.visibility === 'private' ? 'Private only' : 'Public only'}”`].filter(Boolean) as string[];
  if (set.length === 0) return '';
  const list = set.length === 1 ? set[0]! : `${set.slice(0, -1).join(', ')} or ${set[set.length - 1]!}`;
  return `Clear or change ${list}.`;
}
/** The tags box's text as the `tag` parameter: "a, b," → "a,b". */
const tagList = (text: string) => text.split(',').map((t) => t.trim()).filter(Boolean).join(',');

export function Library({ route, onChange }: { route: Route; onChange: () => void }) {
  const q = route.query;
  const folder = q.get('folder') ?? '/';
  const filters = {
    q: q.get('q') ?? '',
    type: q.get('type') ?? '',
    visibility: q.get('visibility') ?? '',
    sort: q.get('sort') ?? '-created_at',
    recursive: q.get('recursive') === '1',
    tag: q.get('tag') ?? '',
  };
  const view = (q.get('view') === 'list' ? 'list' : 'grid') as 'grid' | 'list';
  const [items, setItems] = useState<FileItem[]>([]);
  const [count, setCount] = useState(0);
  /** Files below this folder that the view leaves out (subfolders not included), or null while unknown. */
  const [below, setBelow] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  /** The count and, with files selected, the sticky bar of actions (useStickyClearance). */
  const statusLine = useRef<HTMLDivElement>(null);
  /** What the failed load was, for its Retry: the page itself, or the next page of it. */
  const [failed, setFailed] = useState<'reload' | 'more'>('reload');
  /** What the last bulk action did; kept apart from `error` (a failed load), which every reload clears. */
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  /** The dialog open over the selection, with its size when it opened (the selection empties as the action ends). */
  const [asking, setAsking] = useState<{ kind: 'move' | 'delete'; count: number } | null>(null);
  const [treeVersion, setTreeVersion] = useState(0);
  const [incoming, setIncoming] = useState<{ files: File[]; seq: number }>({ files: [], seq: 0 });
  const [dragging, setDragging] = useState(false);
  const [search, setSearch] = useState(filters.q);
  const [tagInput, setTagInput] = useState(filters.tag);
  /** The `q` and `tag` this page last put in the address from its boxes (the boxes already say them). */
  const fromBoxes = useRef<{ q?: string; tag?: string }>({});
  // The boxes follow the address when something else changes it (the Library tab, the logo, Back,
  // a tag link): a box that kept "zzzz" over a list showing everything told of a search no longer
  // applied. The address catching up with the typing is left alone: more may have been typed since.
  useEffect(() => {
    if (fromBoxes.current.q === filters.q) delete fromBoxes.current.q;
    else {
      delete fromBoxes.current.q;
      setSearch(filters.q);
    }
  }, [filters.q]);
  useEffect(() => {
    if (fromBoxes.current.tag === filters.tag) delete fromBoxes.current.tag;
    else {
      delete fromBoxes.current.tag;
      setTagInput(filters.tag);
    }
  }, [filters.tag]);
  const generation = useRef(0);
  // On a phone the folders, the filters and the upload options fold away, so the first screen shows files.
  const narrow = useNarrow();
  /**
   * Whether the folder shown exists, by its parent's listing (the file list answers a folder that
   * does not exist, a stale bookmark or one deleted in another tab, as an empty one). Kept with
   * the folder it is about: unknown for another until asked, and not blanked by a re-check.
   */
  const [existence, setExistence] = useState<{ folder: string; exists: boolean; nearest: string } | null>(null);
  const exists = folder === '/' ? true : existence?.folder === folder ? existence.exists : null;
  useEffect(() => {
    if (folder === '/') return;
    let live = true;
    const target = normalFolder(folder);
    const found = (path: string) => path === '/' || api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(parentOf(path))}`)
      .then((p) => p.results.some((f) => f.path === path));
    void (async () => {
      const here = await found(target);
      // A missing folder links to the deepest one above it that exists (its parent may be gone too).
      let nearest = target;
      for (let hops = 0; !here && hops < 20 && nearest !== '/';) {
        nearest = parentOf(nearest);
        if (await found(nearest)) break;
        if (++hops === 20) nearest = '/';
      }
      if (live) setExistence({ folder, exists: here, nearest });
    })().catch(() => undefined);
    return () => {
      live = false;
    };
  }, [folder, treeVersion]);
  const nearest = existence?.folder === folder ? existence.nearest : parentOf(folder);
  // A message about the last bulk action belongs to the folder it was made in; one the page left
  // sent along (a file deleted on its own page) is shown on arrival.
  useEffect(() => {
    const said = takeMessage();
    setOutcome(said ? { ok: true, text: said } : null);
  }, [folder]);
  // The file page's link back returns to this view (library-return.ts).
  useEffect(rememberLibraryView, [route.query.toString()]);
  // So does it to the view it was made in: a search or another filter shows other files.
  const filterKey = [filters.q, filters.tag, filters.type, filters.visibility, filters.sort, filters.recursive].join('\n');
  const shownFilters = useRef(filterKey);
  useEffect(() => {
    if (filterKey === shownFilters.current) return;
    shownFilters.current = filterKey;
    setOutcome(null);
  }, [filterKey]);
  // The bulk bar leaves with the selection: focus goes to what the action did, not to <body>.
  // Once the dialog that asked is gone: while it is open the page behind it is inert and refuses
  // the focus, and its closing handed the focus back to where it opened (<main> when the bulk bar
  // has left), after the message had it.
  const focusOutcome = useRef(false);
  useEffect(() => {
    focusOutcome.current = outcome !== null;
  }, [outcome]);
  useEffect(() => {
    if (!focusOutcome.current || asking || !outcomeRef.current) return;
    focusOutcome.current = false;
    outcomeRef.current.focus();
  });
  // The name search applies as you type, once typing pauses (Enter or leaving the box apply it at once).
  useEffect(() => {
    if (search === filters.q) return;
    const timer = setTimeout(() => setParam({ q: search }), 350);
    return () => clearTimeout(timer);
  }, [search]);
  // And so do the tags, as the name search beside them does.
  useEffect(() => {
    if (tagList(tagInput) === filters.tag) return;
    const timer = setTimeout(() => setParam({ tag: tagList(tagInput) }), 350);
    return () => clearTimeout(timer);
  }, [tagInput]);

  /**
   * Changes the address's filters. Another folder is a new history entry (Back returns to the
   * folder before, as in a file manager; it left the library); a filter or the search as it is
   * typed replaces the entry. `replace` forces either.
   */
  const setParam = (patch: Record<string, string | null>, replace?: boolean) => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    if ('q' in patch) fromBoxes.current.q = next.get('q') ?? '';
    if ('tag' in patch) fromBoxes.current.tag = next.get('tag') ?? '';
    const s = next.toString();
    const otherFolder = 'folder' in patch && (next.get('folder') ?? '/') !== folder;
    navigate(s ? `/?${s}` : '/', replace ?? !otherFolder);
  };

  // A search looks in subfolders too, as a person searching a library expects.
  const searching = filters.q !== '' || filters.tag !== '';
  const recursive = filters.recursive || searching;
  /** Filters set besides the name search, for the folded toolbar's summary on a phone. */
  const activeFilters = [filters.tag, filters.type, filters.visibility, filters.sort !== '-created_at', filters.recursive && !searching, view === 'list'].filter(Boolean).length;
  const query = (c: string | null, limit = 100, everywhere = recursive) => {
    const p = new URLSearchParams({ folder, limit: String(limit), sort: filters.sort });
    if (everywhere) p.set('recursive', 'true');
    if (filters.q) p.set('q', filters.q);
    if (filters.type) p.set('content_type', filters.type);
    if (filters.visibility) p.set('is_public', String(filters.visibility === 'public'));
    if (filters.tag) p.set('tag', filters.tag);
    if (c) p.set('cursor', c);
    return `/api/files?${p}`;
  };

  // Back to the library loads as many files as it showed when it was left, so the scroll position
  // and the tile that was opened exist again (page-change.ts restores both).
  const restoreCount = useRef(reachedByHistory() ? entryState().loaded ?? 0 : 0);
  useEffect(() => rememberInEntry({ loaded: items.length }), [items.length]);

  const reload = useCallback(() => {
    const gen = ++generation.current;
    const want = restoreCount.current;
    restoreCount.current = 0;
    setLoading(true);
    setError('');
    (async () => {
      // How many more the same filters find in subfolders (a count, asked alongside the page), so
      // the top level never reads as everything.
      const everywhere = recursive ? null : api<Page<FileItem>>('GET', query(null, 1, true));
      everywhere?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      let page = await api<Page<FileItem>>('GET', query(null, Math.min(MAX_PAGE, Math.max(100, want))));
      const count = page.count;
      let results = page.results;
      while (results.length < want && page.next_cursor && gen === generation.current) {
        page = await api<Page<FileItem>>('GET', query(page.next_cursor, Math.min(MAX_PAGE, want - results.length)));
        results = results.concat(page.results);
      }
      const all = everywhere ? (await everywhere).count : count;
      return { results, count, next: page.next_cursor, below: all - count };
    })()
      .then(({ results, count, next, below }) => {
        if (gen !== generation.current) return;
        setItems(results);
        setCount(count);
        setBelow(below);
        setCursor(next);
      })
      .catch((err) => {
        if (gen !== generation.current) return;
        // Not another folder's files under this one's name, nor "0 files": the error, and Retry.
        setItems([]);
        setCursor(null);
        setCount(0);
        setBelow(0);
        setFailed('reload');
        setError(errorText(err));
      })
      .finally(() => gen === generation.current && setLoading(false));
  }, [route.query.toString()]);
  useEffect(() => {
    reload();
    setSelected(new Set());
  }, [reload]);

  const loadMore = () => {
    if (loading || !cursor) return;
    const gen = generation.current;
    setLoading(true);
    api<Page<FileItem>>('GET', query(cursor))
      .then((page) => {
        if (gen !== generation.current) return;
        setItems((xs) => [...xs, ...page.results]);
        setCursor(page.next_cursor);
      })
      .catch((err) => {
        if (gen !== generation.current) return; // another folder's page by now
        setFailed('more');
        setError(errorText(err));
      })
      .finally(() => gen === generation.current && setLoading(false));
  };
  /** The failed load again: the page itself, or its next page. */
  const retry = () => (failed === 'more' ? (setError(''), loadMore()) : reload());
  // A load that failed offline is tried again once the browser is back online (it waited for a
  // tap on Retry).
  useEffect(() => {
    if (!error) return;
    window.addEventListener('online', retry);
    return () => window.removeEventListener('online', retry);
  });

  // Paste an image (or any file) from the clipboard.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length) setIncoming((x) => ({ files, seq: x.seq + 1 }));
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, []);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    // A dropped folder comes with what is inside it, keeping its structure (dropped.ts).
    void filesOfDrop(e.dataTransfer).then(({ files, unreadable }) => {
      if (files.length) setIncoming((x) => ({ files, seq: x.seq + 1 }));
      if (unreadable) setOutcome({ ok: false, text: `${unreadable === 1 ? '1 item' : `${unreadable} items`} of the drop could not be read (a broken link, or a file moved meanwhile) and ${unreadable === 1 ? 'was' : 'were'} left out.` });
    });
  };

  // A file this visit uploaded (upload-queue.ts; perhaps begun before this page opened) joins the grid it belongs to.
  useEffect(() => onFileUploaded((f) => {
    if (f.folder === folder || recursive) {
      setItems((xs) => [f, ...xs.filter((x) => x.id !== f.id)]);
      setCount((n) => n + 1);
    } else if (f.folder.startsWith(folder === '/' ? '/' : `${folder}/`)) setBelow((n) => (n ?? 0) + 1);
    setTreeVersion((v) => v + 1);
  }), [folder, recursive]);

  // One it could not fetch (upload-queue.ts): the list loads again, so it shows up all the same.
  useEffect(() => onListStale(() => {
    setTreeVersion((v) => v + 1);
    reload();
  }), [reload]);

  /** The tile a Shift-click extends from: the last one ticked or unticked. */
  const anchor = useRef<string | null>(null);
  const toggle = (id: string, range: boolean) => {
    const from = range && anchor.current ? items.findIndex((f) => f.id === anchor.current) : -1;
    const to = items.findIndex((f) => f.id === id);
    anchor.current = id;
    setSelected((s) => {
      const n = new Set(s);
      if (from >= 0 && to >= 0) {
        // Shift-click: everything between the two takes the anchor's state, as in a file manager.
        const on = n.has(items[from]!.id);
        for (const f of items.slice(Math.min(from, to), Math.max(from, to) + 1)) {
          if (on) n.add(f.id);
          else n.delete(f.id);
        }
      } else if (!n.delete(id)) n.add(id);
      return n;
    });
  };
  // Escape clears the selection (a dialog's or a field's own Escape comes first).
  useEffect(() => {
    if (selected.size === 0) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]') || t?.closest('input:not([type=checkbox]), select, textarea')) return;
      setSelected(new Set());
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [selected.size]);

  /** Runs a bulk action on the selection; `fn` says how many it did and, if some failed, why. */
  const bulk = async (label: string | (() => string), fn: (ids: string[]) => Promise<{ done: number; failure?: string }>) => {
    const ids = [...selected];
    setOutcome(null);
    try {
      const { done, failure } = await fn(ids);
      const text = `${typeof label === 'string' ? label : label()}: ${done} of ${ids.length} ${ids.length === 1 ? 'file' : 'files'}.`;
      setOutcome(failure ? { ok: false, text: `${text} ${ids.length - done} not: ${failure}` } : { ok: true, text });
    } catch (err) {
      setOutcome({ ok: false, text: errorText(err) });
    }
    setSelected(new Set());
    setTreeVersion((v) => v + 1);
    onChange();
    reload();
  };
  const bulkDelete = () =>
    bulk('Deleted', async (ids) => {
      let done = 0;
      for (let i = 0; i < ids.length; i += BULK_DELETE_MAX) {
        done += (await api<{ deleted: number }>('POST', '/api/files/bulk-delete', { ids: ids.slice(i, i + BULK_DELETE_MAX) })).deleted;
      }
      return { done, failure: done < ids.length ? 'already deleted, or not found.' : undefined };
    });
  /** PATCHes every selected file with `body`, a few at a time; `label` gets the first answer (a move names the folder as the server wrote it). */
  const patchAll = (label: string | ((first: FileItem | undefined) => string), body: Record<string, unknown>) => {
    let first: FileItem | undefined;
    return bulk(() => (typeof label === 'string' ? label : label(first)), async (ids) => {
      const results: PromiseSettledResult<FileItem>[] = [];
      for (let i = 0; i < ids.length; i += PATCH_AT_ONCE) {
        results.push(...await Promise.allSettled(ids.slice(i, i + PATCH_AT_ONCE).map((id) => api<FileItem>('PATCH', `/api/files/${id}`, body))));
      }
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed && results.every((r) => r.status === 'rejected')) throw failed.reason;
      first = results.find((r): r is PromiseFulfilledResult<FileItem> => r.status === 'fulfilled')?.value;
      return { done: results.filter((r) => r.status === 'fulfilled').length, failure: failed ? errorText(failed.reason) : undefined };
    });
  };
  /**
   * A destination that is not in its parent's listing is created first: that checks its path
   * with the server (400 keeps the dialog open with the reason) and makes it exist even when
   * every move then fails. One that exists is not POSTed: the 409 was harmless but every move
   * into an existing folder logged a failed request in the console.
   */
  const moveTo = async (to: string) => {
    let path = to.trim() || '/';
    if (path !== '/') {
      const target = normalFolder(path);
      const listed = await api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(parentOf(target))}`)
        .then((p) => p.results.find((f) => f.path === target), () => undefined); // a path the server refuses: the POST says why
      if (listed) path = listed.path;
      else {
        try {
          path = (await api<{ path: string }>('POST', '/api/folders', { path })).path;
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err; // made meanwhile
        }
      }
    }
    const chosen = items.filter((f) => selected.has(f.id));
    if (chosen.length > 0 && chosen.every((f) => f.folder === path)) {
      throw new Error(`${chosen.length === 1 ? 'That file is' : 'Those files are'} already in ${path === '/' ? 'the top level' : path}.`);
    }
    await patchAll((moved) => `Moved to ${moved?.folder ?? path}`, { folder: path });
  };

  const empty = !loading && !error && items.length === 0;
  useStickyClearance(statusLine, selected.size > 0);
  const filtered = filters.q || filters.type || filters.visibility || filters.tag;
  return (
    <div
      class={`library${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDragging(false)}
      onDrop={onDrop}
    >
      <aside class="side">
        <Fold narrow={narrow} closeOn={folder} summary={folder === '/' ? 'Folders' : `Folders: ${folder}`}>
          <FolderTree current={folder} version={treeVersion} onPick={(p) => setParam({ folder: p === '/' ? null : p })} />
          <FolderActions folder={folder} missing={exists === false} onChanged={(to, replace) => {
            setTreeVersion((v) => v + 1);
            if (to !== undefined) setParam({ folder: to === '/' ? null : to }, replace);
            else reload();
          }} />
        </Fold>
      </aside>
      <div class="content">
        <h1 class="folder-title">{folder !== '/' ? folder : recursive ? 'All files' : 'Top level'}</h1>
        <Uploader folder={folder} incoming={incoming} />
        <form class="toolbar" role="search" onSubmit={(e) => {
          e.preventDefault();
          setParam({ q: search, tag: tagList(tagInput) });
        }}>
          <label class="grow">
            <span class="sr-only">Search by name</span>
            <input type="search" placeholder="Search by name" value={search} onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} onChange={() => setParam({ q: search })} />
          </label>
          <Fold narrow={narrow} summary={`Filters and sorting${activeFilters ? ` (${activeFilters})` : ''}`} class="filters-fold">
            <label>
              <span class="sr-only">Tags</span>
              <input type="search" placeholder="Tags (all of)" value={tagInput} onInput={(e) => setTagInput((e.currentTarget as HTMLInputElement).value)}
                onChange={() => setParam({ tag: tagList(tagInput) })} />
            </label>
            <label>
              <span class="sr-only">Show files of type</span>
              <select value={filters.type} onChange={(e) => setParam({ type: (e.currentTarget as HTMLSelectElement).value })}>
                {TYPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
              </select>
            </label>
            <label>
              <span class="sr-only">Show public or private files</span>
              <select value={filters.visibility} onChange={(e) => setParam({ visibility: (e.currentTarget as HTMLSelectElement).value })}>
                <option value="">Public and private</option>
                <option value="public">Public only</option>
                <option value="private">Private only</option>
              </select>
            </label>
            <label>
              <span class="sr-only">Sort files</span>
              <select value={filters.sort} onChange={(e) => setParam({ sort: (e.currentTarget as HTMLSelectElement).value })}>
                <option value="-created_at">Newest first</option>
                <option value="created_at">Oldest first</option>
                <option value="name">Name A–Z</option>
                <option value="-name">Name Z–A</option>
                <option value="-size">Largest first</option>
                <option value="size">Smallest first</option>
              </select>
            </label>
            <label class="check">
              <input type="checkbox" checked={recursive || searching} disabled={searching}
                onChange={(e) => setParam({ recursive: (e.currentTarget as HTMLInputElement).checked ? '1' : null })} /> Subfolders too{searching && <span class="muted"> (a search always looks in them)</span>}
            </label>
            <div class="seg" role="group" aria-label="View">
              <button type="button" aria-pressed={view === 'grid'} onClick={() => setParam({ view: null })}>Grid</button>
              <button type="button" aria-pressed={view === 'list'} onClick={() => setParam({ view: 'list' })}>List</button>
            </div>
          </Fold>
        </form>
        <div ref={statusLine} class={selected.size > 0 ? 'status-line selecting' : 'status-line'}>
          <span role="status">{loading && items.length === 0 ? 'Loading files…' : error && items.length === 0 ? 'Files not loaded' : `${count} ${count === 1 ? 'file' : 'files'}${below ? ` here, ${below} more in subfolders` : ''}`}</span>
          {below ? <button type="button" class="link" onClick={() => setParam({ recursive: '1' })}>Show {below === 1 ? 'it' : 'them'} too</button> : null}
          {selected.size > 0 && (
            <div class="bulk" role="group" aria-label="Selected files">
              <span>{selected.size} selected</span>
              <button type="button" onClick={() => setAsking({ kind: 'move', count: selected.size })}>Move…</button>
              <button type="button" onClick={() => void patchAll('Made public', { is_public: true })}>Make public</button>
              <button type="button" onClick={() => void patchAll('Made private', { is_public: false })}>Make private</button>
              <button type="button" class="danger" onClick={() => setAsking({ kind: 'delete', count: selected.size })}>Delete…</button>
              {selected.size < items.length && (
                <button type="button" class="link" onClick={() => setSelected(new Set(items.map((f) => f.id)))}>
                  {cursor === null ? `Select all ${items.length}` : `Select the ${items.length} shown`}
                </button>
              )}
              <button type="button" class="link" onClick={() => setSelected(new Set())}>Clear</button>
            </div>
          )}
          {asking?.kind === 'move' && <MoveDialog count={asking.count} from={folder} onMove={moveTo} onClose={() => setAsking(null)} />}
          {asking?.kind === 'delete' && (
            <FormDialog title={`Delete ${asking.count} ${asking.count === 1 ? 'file' : 'files'}?`} submit="Delete" danger onClose={() => setAsking(null)} onSubmit={bulkDelete}>
              <p>{asking.count === 1 ? 'Its' : 'Their'} links and share links stop working. This cannot be undone.</p>
            </FormDialog>
          )}
        </div>
        {error && (
          <p class="error" role="alert">
            {error}{' '}
            <button type="button" onClick={retry}>Retry</button>
          </p>
        )}
        {outcome && <p ref={outcomeRef} tabIndex={-1} class={`outcome ${outcome.ok ? 'notice' : 'error'}`} role={outcome.ok ? 'status' : 'alert'}>{outcome.text}</p>}
        <LinkBaseNotice url={items[0]?.url} />
        {empty && exists === false ? (
          <div class="empty missing-folder" role="alert">
            <p>The folder {folder} does not exist: it may have been renamed or deleted.</p>
            <p><a href={nearest === '/' ? '/' : `/?${new URLSearchParams({ folder: nearest })}`}>Go to {nearest === '/' ? 'the top level' : nearest}</a></p>
          </div>
        ) : empty && (
          <p class="empty">
            {filtered ? `No file matches these filters. ${clearHint(filters)}`
              : narrow ? 'This folder is empty. Choose files above to upload.' : 'This folder is empty. Drop files here, paste an image or choose files above to upload.'}
          </p>
        )}
        <FileGrid items={items} view={view} selected={selected} onToggle={toggle} hasMore={cursor !== null} onNearEnd={loadMore} />
        {loading && items.length > 0 && <p class="loading" role="status">Loading more…</p>}
      </div>
    </div>
  );
}

/**
 * While `on`, the page keeps the focused element clear of the selection's bar (`ref`, sticky at
 * the top; on a phone its actions are fixed at the bottom): the tile ticked as the bar appears is
 * scrolled out from under it, and the next ones Tab reaches stop beside it (its height, followed
 * as it wraps). The bar covered the first row, the ticked checkbox and the focus ring with it
 * (WCAG 2.4.11). Margins of the grid's elements (`--bar-clearance[-bottom]`, styles.css), not
 * the page's scroll padding: that moved the page whenever the bar's own buttons took the focus.
 */
function useStickyClearance(ref: { current: HTMLElement | null }, on: boolean): void {
  useEffect(() => {
    const bar = ref.current;
    if (!on || !bar) return;
    const root = document.documentElement;
    // On a phone the actions sit in a bar fixed at the bottom (styles.css): tiles stop above it.
    const fit = () => {
      const bottom = bar.querySelector<HTMLElement>('.bulk');
      const fixed = bottom !== null && getComputedStyle(bottom).position === 'fixed';
      root.style.setProperty('--bar-clearance', fixed ? '0px' : `${bar.offsetHeight + 8}px`);
      root.style.setProperty('--bar-clearance-bottom', fixed ? `${bottom.offsetHeight + 8}px` : '0px');
    };
    fit();
    // The tile just ticked, out from under the bar that came with it ('nearest', with the margins above: only when covered).
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && focused.closest('.files')) focused.scrollIntoView({ block: 'nearest' });
    const observer = new ResizeObserver(fit);
    observer.observe(bar);
    const actions = bar.querySelector('.bulk');
    if (actions) observer.observe(actions);
    return () => {
      observer.disconnect();
      root.style.removeProperty('--bar-clearance');
      root.style.removeProperty('--bar-clearance-bottom');
    };
  }, [on]);
}
