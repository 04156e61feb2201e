import { useEffect, useRef, useState } from 'preact/hooks';
import { api, describeError, formatBytes, formatSpan } from '../api';
import { addUploads, cancelUpload, clearFinishedUploads, removeUpload, retryUpload, useUploadJobs, type UploadJob } from '../upload-queue';
import { Fold, useNarrow, useTouch } from './Fold';
import { relativePathOf } from './dropped';

interface Options {
  folder: string;
  /** null until the account's defaults are read: then nothing is sent and the server applies them. */
  isPublic: boolean | null;
  /** Seconds, 0 for never (sent as such, so it overrides a default expiry); null as above. */
  expiresIn: number | null;
}

const EXPIRIES: [number, string][] = [
  [0, 'Never'], [3600, 'In 1 hour'], [86_400, 'In 1 day'], [7 * 86_400, 'In 7 days'],
  [30 * 86_400, 'In 30 days'], [90 * 86_400, 'In 90 days'], [365 * 86_400, 'In 1 year'],
];

/** The upload options in one line, for their folded summary on a phone. */
function optionsSummary(o: Options): string {
  const visibility = o.isPublic === null ? 'your defaults' : o.isPublic ? 'Public' : 'Private';
  const expiry = o.expiresIn === null ? null : EXPIRIES.find(([v]) => v === o.expiresIn)?.[1] ?? `In ${formatSpan(o.expiresIn)}`;
  return ['Options:', o.folder, '·', visibility, ...(expiry ? ['·', expiry] : [])].join(' ');
}

/** What an upload says about visibility and expiry: only what the form shows, always, once it is known. */
function uploadFields(o: Options): Record<string, string> {
  return {
    ...(o.isPublic === null ? {} : { is_public: String(o.isPublic) }),
    ...(o.expiresIn === null ? {} : { expires_in: String(o.expiresIn) }),
  };
}

const SYSTEM_FILE = /^(\..*|Thumbs\.db|desktop\.ini)$/i;

/**
 * The upload form: a drop zone, the pickers and the options files are added with, and the list
 * of this visit's uploads (upload-queue.ts runs them, whatever page is open).
 */
export function Uploader({ folder, incoming }: { folder: string; incoming: { files: File[]; seq: number } }) {
  const jobs = useUploadJobs();
  // The form starts from the account's defaults (Settings), so a file gets what the form shows.
  const [opts, setOpts] = useState<Options>({ folder, isPublic: null, expiresIn: null });
  /** The account's per-file limit (Settings), once read: a larger file is refused at once, not after its turn in the queue. */
  const limit = useRef<number | null>(null);
  const narrow = useNarrow();
  const touch = useTouch();
  const input = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);

  useEffect(() => setOpts((o) => ({ ...o, folder })), [folder]);
  useEffect(() => {
    api<{ default_is_public: boolean; default_expires_in: number | null; max_upload_size_bytes: number }>('GET', '/api/settings')
      .then((s) => {
        limit.current = s.max_upload_size_bytes;
        setOpts((o) => ({ ...o, isPublic: o.isPublic ?? s.default_is_public, expiresIn: o.expiresIn ?? s.default_expires_in ?? 0 }));
      })
      .catch(() => undefined); // unknown: the server applies them anyway
  }, []);
  useEffect(() => {
    if (incoming.files.length) add(incoming.files);
  }, [incoming.seq]);

  function add(files: File[]) {
    const base = opts.folder === '/' ? '' : opts.folder;
    const fields = uploadFields(opts);
    // A picked folder brings the system's own files along (.DS_Store, Thumbs.db): left out, as other uploaders do.
    addUploads(files.filter((file) => !(relativePathOf(file) && SYSTEM_FILE.test(file.name))).map((file) => {
      // A folder picked or dropped keeps its structure under the target folder.
      const rel = relativePathOf(file).split('/').slice(0, -1).join('/');
      // The server's own words for one over the limit (FILE_TOO_LARGE), without the wait and the bytes sent.
      const over = limit.current !== null && file.size > limit.current;
      return {
        file, folder: rel ? `${base}/${rel}` : opts.folder, fields,
        ...(over ? { refusal: describeError(413, { error: 'FILE_TOO_LARGE', details: { max_bytes: limit.current, size: file.size } }).message } : {}),
      };
    }));
  }

  const active = jobs.filter((j) => j.status === 'uploading' || j.status === 'queued').length;
  const done = jobs.filter((j) => j.status === 'done').length;
  const failed = jobs.filter((j) => j.status === 'failed').length;
  const cancelled = jobs.filter((j) => j.status === 'cancelled').length;
  // Once nothing is uploading, the uploaded rows fold into the summary line, so the new files are
  // in view, not below a long list (on a phone one refused file kept the whole list open); what
  // failed or was cancelled stays, with its reason and its Retry.
  const [unfolded, setUnfolded] = useState(false);
  const twice = jobs.filter((j) => j.status === 'done' && j.copies).length;
  const foldDone = active === 0 && done > 0 && !unfolded;
  // A file the library already held stays in view: its row says where the earlier copy is.
  const folded = foldDone && done === jobs.length && twice === 0;
  const list = useRef<HTMLUListElement>(null);
  const summary = useRef<HTMLParagraphElement>(null);
  /**
   * The job whose button has the focus. A row keeps one button whose words change (Cancel →
   * Retry → Cancel), so the focus stays on it; when the upload finishes the button leaves, and
   * the focus goes to the row's status, or to the summary when the list folds, not to <body>.
   */
  const held = useRef<number | null>(null);
  useEffect(() => {
    const key = held.current;
    if (key === null) return;
    const row = list.current?.querySelector<HTMLElement>(`[data-key="${key}"]`);
    const button = row?.querySelector('button');
    const lost = !document.activeElement || document.activeElement === document.body;
    if (button && button !== document.activeElement) held.current = null; // the user went elsewhere
    if (button || !lost) return;
    held.current = null;
    (folded || !row ? summary.current : row.querySelector<HTMLElement>('.job-info'))?.focus();
  });
  return (
    <section class="uploader card" aria-label="Upload">
      <div class="drop">
        {narrow || touch ? (
          // A phone or a tablet has nothing to drop or paste from: the two pickers, as buttons a thumb can hit.
          <p class="pickers">
            <button type="button" class="primary" onClick={() => input.current?.click()}>Choose files to upload</button>
            <button type="button" onClick={() => dirInput.current?.click()}>or a folder</button>
          </p>
        ) : (
          <p>
            <strong>Drop files here</strong>, paste an image, or{' '}
            <button type="button" class="link" onClick={() => input.current?.click()}>choose files</button>
            {' '}or a{' '}
            <button type="button" class="link" onClick={() => dirInput.current?.click()}>folder</button>.
          </p>
        )}
        <input ref={input} type="file" multiple hidden aria-label="Choose files" onChange={(e) => add([...((e.currentTarget as HTMLInputElement).files ?? [])])} />
        <input ref={dirInput} type="file" multiple hidden aria-label="Choose a folder" {...{ webkitdirectory: true }} onChange={(e) => add([...((e.currentTarget as HTMLInputElement).files ?? [])])} />
      </div>
      <Fold narrow={narrow} summary={optionsSummary(opts)}>
        <div class="upload-options">
          <label>
            Folder <input value={opts.folder} size={12} onInput={(e) => setOpts({ ...opts, folder: (e.currentTarget as HTMLInputElement).value || '/' })} />
          </label>
          <label>
            Visibility{' '}
            <select value={opts.isPublic === null ? '' : opts.isPublic ? 'public' : 'private'} onChange={(e) => setOpts({ ...opts, isPublic: (e.currentTarget as HTMLSelectElement).value === 'public' })}>
              {opts.isPublic === null && <option value="">Your default</option>}
              <option value="public">Public</option>
              <option value="private">Private</option>
            </select>
          </label>
          <label>
            Expires{' '}
            <select value={opts.expiresIn === null ? '' : String(opts.expiresIn)} onChange={(e) => setOpts({ ...opts, expiresIn: Number((e.currentTarget as HTMLSelectElement).value) })}>
              {opts.expiresIn === null && <option value="">Your default</option>}
              {EXPIRIES.map(([v, label]) => <option key={v} value={String(v)}>{label}</option>)}
              {opts.expiresIn !== null && !EXPIRIES.some(([v]) => v === opts.expiresIn) && <option value={String(opts.expiresIn)}>In {formatSpan(opts.expiresIn)}</option>}
            </select>
          </label>
        </div>
      </Fold>
      {jobs.length > 0 && (
        <ul class={folded ? 'jobs folded' : 'jobs'} aria-live="polite">
          {jobs.map((j) => (
            <li key={j.key} class={`job ${j.status}`} data-status={j.status} data-key={j.key} hidden={foldDone && j.status === 'done' && !j.copies}>
              <span class="job-name">{relativePathOf(j.file) || j.file.name || 'pasted image'}</span>
              {/* A cancelled or failed upload shows an empty bar: a half-filled one looked paused. */}
              <progress max={j.file.size || 1} value={j.status === 'done' ? j.file.size : j.status === 'failed' || j.status === 'cancelled' ? 0 : j.loaded}
                aria-label={`Upload of ${j.file.name}${j.status === 'cancelled' ? ', cancelled' : ''}`} />
              <span class="job-info" tabIndex={-1}>
                {j.status === 'uploading' && !j.offline && !j.retrying && `${formatBytes(j.loaded)} of ${formatBytes(j.file.size)} · ${formatBytes(j.speed)}/s`}
                {j.status === 'uploading' && !j.offline && j.retrying && `${formatBytes(j.loaded)} of ${formatBytes(j.file.size)}. ${j.retrying}`}
                {j.status === 'uploading' && j.offline && `Offline at ${formatBytes(j.loaded)} of ${formatBytes(j.file.size)}: resumes when the connection is back…`}
                {j.status === 'queued' && 'Waiting…'}
                {j.status === 'done' && `Uploaded · ${formatBytes(j.file.size)}`}
                {j.status === 'done' && j.copies && <Copies copies={j.copies} total={j.copiesTotal ?? j.copies.length} />}
                {j.status === 'cancelled' && `Cancelled at ${formatBytes(j.loaded)} of ${formatBytes(j.file.size)}`}
                {j.status === 'failed' && <span class="error" role="alert">{j.error}</span>}
              </span>
              <JobButton job={j} onFocus={() => (held.current = j.key)} />
            </li>
          ))}
        </ul>
      )}
      {active === 0 && jobs.length > 0 && (
        <div class="jobs-done">
          <p ref={summary} tabIndex={-1} class={failed ? 'error' : 'notice'} role="status">
            {failed === 0 && cancelled === 0 ? `All uploads finished.${twice ? ` ${twice === 1 ? 'One was' : `${twice} were`} already in your library (both copies are kept).` : ''}` : [
              `${done} uploaded${twice ? ` (${twice} already in your library)` : ''}`,
              ...(cancelled ? [`${cancelled} cancelled`] : []),
              ...(failed ? [`${failed} failed: see the reasons above${jobs.some((j) => j.status === 'failed' && !j.final) ? ', then retry' : ''}`] : []),
            ].join(', ') + '.'}
          </p>
          {done > twice && (
            <button type="button" class="small" aria-expanded={!foldDone} onClick={() => setUnfolded(foldDone)}>
              {foldDone ? `Show the ${done - twice === 1 ? 'uploaded file' : `${done - twice} uploaded`}${twice ? ' too' : ''}` : 'Fold the uploaded'}
            </button>
          )}
          <button type="button" class="small" onClick={clearFinishedUploads}>Clear finished</button>
        </div>
      )}
    </section>
  );
}

/** A row's one button, its words after the upload's state: one element, so the focus stays on it. */
function JobButton({ job, onFocus }: { job: UploadJob; onFocus: () => void }) {
  const action = job.status === 'uploading' || job.status === 'queued' ? { label: 'Cancel', run: () => cancelUpload(job.key) }
    : (job.status === 'failed' || job.status === 'cancelled') && !job.final ? { label: 'Retry', run: () => retryUpload(job.key) }
    : job.status === 'failed' && job.final ? { label: 'Remove', run: () => removeUpload(job.key) }
    : null;
  if (!action) return null;
  return (
    <button type="button" class="small" onFocus={onFocus} onClick={action.run}>
      {action.label}<span class="sr-only"> {job.file.name || 'pasted image'}</span>
    </button>
  );
}

/** Where the same bytes already were: a link to each earlier copy (at most three). */
function Copies({ copies, total }: { copies: NonNullable<UploadJob['copies']>; total: number }) {
  const more = total - copies.length;
  return (
    <span class="copies">
      {' · already in your library as '}
      {copies.map((c, i) => (
        <span key={c.id}>
          {i > 0 && (i === copies.length - 1 && more === 0 ? ' and ' : ', ')}
          <a href={`/files/${encodeURIComponent(c.id)}`}>{c.name}</a>{c.folder === '/' ? '' : ` in ${c.folder}`}
        </span>
      ))}
      {more > 0 && ` and ${more} more`}
    </span>
  );
}
