import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, type Folder, type Page } from '../api';
import { BusyButton } from './BusyButton';

let ids = 0;

/**
 * A modal `<dialog>`: the browser traps focus in it, closes it on Escape and makes the page
 * behind it inert. Focus goes back to whatever had it when the dialog opened, or to the page's
 * main region when that is gone (a bulk action's buttons leave with the selection).
 */
export function Dialog({ title, focusTitle, returnTo = 'main', onClose, children }: {
  title: string;
  /**
   * Open with the focus on the title instead of the first field: on a phone a focused text field
   * raises the on-screen keyboard over what the dialog shows (the move dialog's folder list).
   */
  focusTitle?: boolean;
  /** The id of what takes the focus when the control that opened the dialog has gone. */
  returnTo?: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [titleId] = useState(() => `dialog-title-${++ids}`);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.showModal();
    if (focusTitle) heading.current?.focus();
    return () => {
      // Focus an action placed outside the dialog as it ended (its outcome) stays there.
      const now = document.activeElement;
      if (now && now !== document.body && !ref.current?.contains(now)) return;
      (opener?.isConnected ? opener : document.getElementById(returnTo))?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId} ref={heading} tabIndex={focusTitle ? -1 : undefined}>{title}</h2>
      {children}
    </dialog>
  );
}

/**
 * A form in a dialog: `onSubmit` runs with the field's value; the dialog closes when it
 * resolves and stays open with the server's words when it throws, so a bad name can be fixed.
 * Without fields it is the app's confirmation: the browser's `confirm()` is a bare box that
 * blocks the page, cannot say why an action failed, and can be silenced for the whole site.
 */
export function FormDialog({ title, focusTitle, returnTo, submit, danger, ready = true, onClose, onSubmit, children }: {
  title: string;
  focusTitle?: boolean;
  returnTo?: string;
  submit: string;
  /** The action destroys something: its button says so in red. */
  danger?: boolean;
  /** False while what the dialog asks about is still loading: the action waits for it. */
  ready?: boolean;
  onClose: () => void;
  onSubmit: () => Promise<void>;
  children: ComponentChildren;
}) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} focusTitle={focusTitle} returnTo={returnTo} onClose={onClose}>
      <form onSubmit={(e) => {
        e.preventDefault();
        if (busy) return;
        setBusy(true);
        setError('');
        onSubmit().then(onClose, (err: unknown) => {
          setError(errorText(err));
          setBusy(false);
        });
      }}>
        {children}
        {error && <p class="error" role="alert">{error}</p>}
        <div class="dialog-buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <BusyButton type="submit" class={danger ? 'danger' : 'primary'} busy={busy} disabled={!ready}>{busy ? 'Working…' : submit}</BusyButton>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * The folders inside `at`, to walk down by clicking and up by "Up"; each step picks the folder
 * it lands on. The API lists one level at a time (`GET /api/folders?parent=`).
 */
export function FolderBrowser({ start, onPick }: { start: string; onPick: (path: string) => void }) {
  const [at, setAt] = useState(start);
  const [folders, setFolders] = useState<Folder[] | null>(null);
  const [error, setError] = useState('');
  const box = useRef<HTMLDivElement>(null);
  /** Set by a step whose button leaves with the old listing (a folder; "Up" to the top level). */
  const refocus = useRef(false);
  useEffect(() => {
    setFolders(null);
    setError('');
    api<Page<Folder>>('GET', `/api/folders?parent=${encodeURIComponent(at)}`)
      .then((p) => setFolders(p.results), (err: unknown) => setError(errorText(err)));
  }, [at]);
  // The pressed button is gone: the keyboard focus (it fell to <body>) goes to the new listing's
  // first folder, else to "Up".
  useEffect(() => {
    if (!refocus.current || (folders === null && !error)) return;
    refocus.current = false;
    (box.current?.querySelector<HTMLElement>('ul button') ?? box.current?.querySelector<HTMLElement>('.browse-head button'))?.focus();
  }, [folders, error]);
  const go = (path: string, leaves: boolean) => {
    refocus.current = leaves;
    setAt(path);
    onPick(path);
  };
  const up = at === '/' ? null : at.slice(0, at.lastIndexOf('/')) || '/';
  return (
    <div class="browse" ref={box}>
      <div class="browse-head">
        <span>Folders in <strong>{at === '/' ? 'the top level' : at}</strong></span>
        {up !== null && <button type="button" class="small" onClick={() => go(up, up === '/')}>Up to {up === '/' ? 'the top level' : up}</button>}
      </div>
      {error ? <p class="error">{error}</p>
        : folders === null ? <p class="muted">Loading…</p>
        : folders.length === 0 ? <p class="muted">No folders in here.</p>
        : (
          <ul>
            {folders.map((f) => (
              <li key={f.path}><button type="button" class="link" onClick={() => go(f.path, true)}>{f.name}</button></li>
            ))}
          </ul>
        )}
    </div>
  );
}
