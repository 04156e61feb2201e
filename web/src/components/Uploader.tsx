import { useEffect, useRef, useState } from 'preact/hooks';
import { Upload, type DetailedError } from 'tus-js-client';
import { api, csrfToken, describeError, formatBytes, formatSpan, type FileItem } from '../api';
import { Fold, useNarrow } from './Fold';

interface Job {
  key: number;
  file: File;
  folder: string;
  status: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  loaded: number;
  speed: number;
  error?: string;
  /** The server refused this file for what it is (too large, a type not accepted): retrying cannot help. */
  final?: boolean;
  /** Stops the request(s) in flight (and, for tus, removes the unfinished upload from the server). */
  cancel?: () => void;
  /** A tus upload that lost its connection: Retry (or coming back online) resumes it from the server's offset. */
  upload?: Upload;
  /** Offline, waiting to resume by itself. */
  offline?: boolean;
}

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

const PARALLEL = 3;
const SYSTEM_FILE = /^(\..*|Thumbs\.db|desktop\.ini)$/i;
/** Refusals of the file itself: the same bytes would be refused again. */
const isFinal = (code: string) => code === 'FILE_TOO_LARGE' || code === 'UNSUPPORTED_MEDIA_TYPE';
const TUS_ENDPOINT = '/api/uploads/tus';
/** tus PATCH size: what a dropped connection can cost at most to re-send (the server keeps what arrived anyway). */
const TUS_CHUNK = 16 * 1024 * 1024;
let nextKey = 1;

let tusCheck: Promise<boolean> | null = null;
/** Whether the server offers tus 1.0.0 (its OPTIONS discovery), asked once per page load. */
function tusOffered(): Promise<boolean> {
  tusCheck ??= fetch(TUS_ENDPOINT, { method: 'OPTIONS', headers: { 'x-csrf-token': csrfToken() }, credentials: 'same-origin' })
    .then((r) => r.status === 204 && (r.headers.get('tus-version') ?? '').split(',').map((v) => v.trim()).includes('1.0.0'))
    .catch(() => {
      tusCheck = null; // offline now: ask again with the next file
      return false;
    });
  return tusCheck;
}

const statusOf = (err: Error | DetailedError): number => ('originalResponse' in err && err.originalResponse ? err.originalResponse.getStatus() : 0);

/**
 * Uploads over tus (resumable) when the server offers it, else with XMLHttpRequest (fetch cannot
 * report upload progress). Three files at a time, each with its bytes, speed, cancel and retry;
 * a refusal (413, 415, 429, 507) is shown as the sentence `describeError` makes of the server's
 * error envelope. A tus upload whose connection drops resumes from the server's offset: by itself
 * when the browser comes back online (or after a short retry), or with Retry.
 */
export function Uploader({ folder, onUploaded, incoming }: { folder: string; onUploaded: (f: FileItem) => void; incoming: { files: File[]; seq: number } }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  // The form starts from the account's defaults (Settings), so a file gets what the form shows.
  const [opts, setOpts] = useState<Options>({ folder, isPublic: null, expiresIn: null });
  /** The account's per-file limit (Settings), once read: a larger file is refused at once, not after its turn in the queue. */
  const limit = useRef<number | null>(null);
  const narrow = useNarrow();
  const jobsRef = useRef(jobs);
  jobsRef.current = jobs;
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

  const update = (key: number, patch: Partial<Job>) => setJobs((js) => js.map((j) => (j.key === key ? { ...j, ...patch } : j)));

  function add(files: File[]) {
    const base = opts.folder === '/' ? '' : opts.folder;
    // A picked folder brings the system's own files along (.DS_Store, Thumbs.db): left out, as other uploaders do.
    const added = files.filter((file) => !(file.webkitRelativePath && SYSTEM_FILE.test(file.name))).map((file): Job => {
      // A folder picked or dropped keeps its structure under the target folder.
      const rel = file.webkitRelativePath?.split('/').slice(0, -1).join('/');
      const job: Job = { key: nextKey++, file, folder: rel ? `${base}/${rel}` : opts.folder, status: 'queued', loaded: 0, speed: 0 };
      // The server's own words for it (FILE_TOO_LARGE), without the wait and the bytes sent.
      if (limit.current !== null && file.size > limit.current) {
        return { ...job, status: 'failed', final: true, error: describeError(413, { error: 'FILE_TOO_LARGE', details: { max_bytes: limit.current } }).message };
      }
      return job;
    });
    setJobs((js) => [...js.filter((j) => j.status !== 'done'), ...added]);
  }

  // Starts queued jobs while fewer than PARALLEL run.
  useEffect(() => {
    const running = jobs.filter((j) => j.status === 'uploading').length;
    const ready = jobs.filter((j) => j.status === 'queued').slice(0, Math.max(0, PARALLEL - running));
    for (const j of ready) start(j);
  }, [jobs]);

  function start(job: Job) {
    update(job.key, { status: 'uploading', loaded: 0, error: undefined, offline: false });
    // An empty file goes by XHR: tus-js-client reports an empty upload done without sending it.
    if (job.upload) return resumeTus(job, job.upload);
    void (job.file.size > 0 ? tusOffered() : Promise.resolve(false)).then((tus) => {
      if (jobsRef.current.find((j) => j.key === job.key)?.status !== 'uploading') return; // cancelled meanwhile
      if (tus) startTus(job);
      else startXhr(job);
    });
  }

  const isRunning = (key: number) => jobsRef.current.find((j) => j.key === key)?.status === 'uploading';

  function startTus(job: Job) {
    const opt = opts;
    let began = performance.now();
    let from = 0;
    const upload: Upload = new Upload(job.file, {
      endpoint: TUS_ENDPOINT,
      chunkSize: TUS_CHUNK,
      uploadDataDuringCreation: true,
      // A drop within one visit resumes; across reloads a file might come back with other options.
      storeFingerprintForResuming: false,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: {
        filename: job.file.name || 'pasted-image.png',
        ...(job.file.type ? { filetype: job.file.type } : {}),
        folder: job.folder,
        ...uploadFields(opt),
      },
      headers: { accept: 'application/json' },
      // The cookie session's CSRF token, read per request (a session refresh may have changed it).
      onBeforeRequest: (req) => req.setHeader('X-CSRF-Token', csrfToken()),
      // Offline: no retry now; the 'online' event resumes it (onError below).
      onShouldRetry: (err) => {
        const status = statusOf(err);
        return navigator.onLine && (status === 0 || status >= 500 || status === 409 || status === 423);
      },
      onProgress: (sent) => {
        if (from < 0) from = sent;
        const secs = (performance.now() - began) / 1000;
        update(job.key, { loaded: sent, speed: secs > 0 ? Math.max(0, sent - from) / secs : 0, offline: false });
      },
      onSuccess: ({ lastResponse }) => {
        const id = lastResponse.getHeader('x-file-id');
        update(job.key, { status: 'done', loaded: job.file.size, cancel: undefined, upload: undefined });
        if (id) api<FileItem>('GET', `/api/files/${encodeURIComponent(id)}`).then(onUploaded, () => {});
      },
      onError: (err) => {
        const status = statusOf(err);
        if (status === 0 && !navigator.onLine && isRunning(job.key)) {
          // Resumes from the server's offset (a HEAD, then the rest) once the network is back.
          update(job.key, { offline: true });
          window.addEventListener('online', () => {
            if (!isRunning(job.key)) return;
            began = performance.now();
            from = -1;
            update(job.key, { offline: false });
            upload.start();
          }, { once: true });
          return;
        }
        if (status === 0) {
          // Kept: Retry resumes it where the server stands.
          update(job.key, { status: 'failed', error: 'The upload was interrupted. Check your connection and retry.', cancel: undefined, offline: false });
          return;
        }
        const res = (err as DetailedError).originalResponse;
        let body: never | null = null;
        try {
          body = JSON.parse(res?.getBody() ?? '') as never;
        } catch {
          body = null;
        }
        const e = describeError(status, body, res?.getHeader('retry-after'));
        update(job.key, { status: 'failed', error: e.message, final: isFinal(e.code), cancel: undefined, upload: undefined, offline: false });
      },
    });
    resumeTus(job, upload);
  }

  function resumeTus(job: Job, upload: Upload) {
    update(job.key, {
      upload,
      cancel: () => {
        update(job.key, { status: 'cancelled', cancel: undefined, upload: undefined, offline: false });
        void upload.abort(true).catch(() => {}); // and DELETE the unfinished upload
      },
    });
    upload.start();
  }

  function startXhr(job: Job) {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('folder', job.folder);
    for (const [k, v] of Object.entries(uploadFields(opts))) form.append(k, v);
    form.append('file', job.file, job.file.name || 'pasted-image.png');
    const began = performance.now();
    xhr.upload.onprogress = (e) => {
      const secs = (performance.now() - began) / 1000;
      // e.total counts the multipart envelope too: scale to the file's own bytes.
      const loaded = e.lengthComputable && e.total > 0 ? Math.min(job.file.size, Math.round((e.loaded / e.total) * job.file.size)) : e.loaded;
      update(job.key, { loaded, speed: secs > 0 ? loaded / secs : 0 });
    };
    xhr.onload = () => {
      let body: { file?: FileItem; error?: string; message?: string; details?: Record<string, unknown> } | null = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body?.file) {
        update(job.key, { status: 'done', loaded: job.file.size, cancel: undefined });
        onUploaded(body.file);
      } else {
        const err = describeError(xhr.status, body as never, xhr.getResponseHeader('retry-after'));
        update(job.key, { status: 'failed', error: err.message, final: isFinal(err.code), cancel: undefined });
      }
    };
    xhr.onerror = () => update(job.key, { status: 'failed', error: 'The upload was interrupted. Check your connection and retry.', cancel: undefined });
    xhr.onabort = () => update(job.key, { status: 'cancelled', cancel: undefined });
    xhr.open('POST', '/api/files');
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.send(form);
    update(job.key, { cancel: () => xhr.abort() });
  }

  const active = jobs.filter((j) => j.status === 'uploading' || j.status === 'queued').length;
  // Leaving or reloading the page ends the uploads still going: the browser asks first (a reload
  // lost a half-sent file without a word).
  useEffect(() => {
    if (active === 0) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = ''; // older Chromium asks only when this is set
    };
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [active > 0]);
  /** The job whose Cancel was just pressed: its Retry, which takes the button's place, gets the focus. */
  const refocus = useRef<number | null>(null);
  const done = jobs.filter((j) => j.status === 'done').length;
  const failed = jobs.filter((j) => j.status === 'failed').length;
  // All uploaded: the list folds into its summary line, so the new files are in view, not below it.
  const [unfolded, setUnfolded] = useState(false);
  const folded = jobs.length > 0 && done === jobs.length && !unfolded;
  return (
    <section class="uploader card" aria-label="Upload">
      <div class="drop">
        {narrow ? (
          // A phone has nothing to drop or paste from: the two pickers, as buttons a thumb can hit.
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
            <li key={j.key} class={`job ${j.status}`} data-status={j.status}>
              <span class="job-name">{j.file.webkitRelativePath || j.file.name || 'pasted image'}</span>
              <progress max={j.file.size || 1} value={j.status === 'done' ? j.file.size : j.status === 'failed' ? 0 : j.loaded} aria-label={`Upload of ${j.file.name}`} />
              <span class="job-info">
                {j.status === 'uploading' && !j.offline && `${formatBytes(j.loaded)} of ${formatBytes(j.file.size)} · ${formatBytes(j.speed)}/s`}
                {j.status === 'uploading' && j.offline && `Offline at ${formatBytes(j.loaded)} of ${formatBytes(j.file.size)}: resumes when the connection is back…`}
                {j.status === 'queued' && 'Waiting…'}
                {j.status === 'done' && `Uploaded · ${formatBytes(j.file.size)}`}
                {j.status === 'cancelled' && 'Cancelled'}
                {j.status === 'failed' && <span class="error" role="alert">{j.error}</span>}
              </span>
              {(j.status === 'uploading' || j.status === 'queued') && (
                <button type="button" class="small" onClick={() => {
                  refocus.current = j.key;
                  if (j.cancel) j.cancel();
                  else update(j.key, { status: 'cancelled' });
                }}>Cancel</button>
              )}
              {(j.status === 'failed' || j.status === 'cancelled') && !j.final && (
                <button type="button" class="small" onClick={() => update(j.key, { status: 'queued', loaded: 0, error: undefined })} ref={(el) => {
                  if (el && refocus.current === j.key) {
                    refocus.current = null;
                    el.focus();
                  }
                }}>Retry</button>
              )}
              {j.status === 'failed' && j.final && (
                <button type="button" class="small" onClick={() => setJobs((js) => js.filter((x) => x.key !== j.key))}>Remove</button>
              )}
            </li>
          ))}
        </ul>
      )}
      {active === 0 && jobs.length > 0 && (
        <div class="jobs-done">
          <p class={failed ? 'error' : 'notice'} role="status">
            {failed === 0 ? 'All uploads finished.' : `${done} uploaded, ${failed} failed: see the reasons above${jobs.some((j) => j.status === 'failed' && !j.final) ? ', then retry' : ''}.`}
          </p>
          {done === jobs.length && (
            <button type="button" class="small" aria-expanded={!folded} onClick={() => setUnfolded(folded)}>{folded ? 'Show the list' : 'Fold the list'}</button>
          )}
          <button type="button" class="small" onClick={() => setJobs((js) => js.filter((j) => j.status === 'failed'))}>Clear finished</button>
        </div>
      )}
    </section>
  );
}
