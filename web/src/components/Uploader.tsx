import { useEffect, useRef, useState } from 'preact/hooks';
import { csrfToken, describeError, formatBytes, type FileItem } from '../api';

interface Job {
  key: number;
  file: File;
  folder: string;
  status: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  loaded: number;
  speed: number;
  error?: string;
  xhr?: XMLHttpRequest;
}

interface Options {
  folder: string;
  isPublic: boolean;
  expiresIn: number;
}

const PARALLEL = 3;
let nextKey = 1;

/**
 * Uploads with XMLHttpRequest: fetch cannot report upload progress. Three files at a time, each
 * with its bytes, speed, cancel and retry; a refusal (413, 415, 429, 507) is shown as the
 * sentence `describeError` makes of the server's error envelope.
 */
export function Uploader({ folder, onUploaded, incoming }: { folder: string; onUploaded: (f: FileItem) => void; incoming: { files: File[]; seq: number } }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [opts, setOpts] = useState<Options>({ folder, isPublic: true, expiresIn: 0 });
  const jobsRef = useRef(jobs);
  jobsRef.current = jobs;
  const input = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);

  useEffect(() => setOpts((o) => ({ ...o, folder })), [folder]);
  useEffect(() => {
    if (incoming.files.length) add(incoming.files);
  }, [incoming.seq]);

  const update = (key: number, patch: Partial<Job>) => setJobs((js) => js.map((j) => (j.key === key ? { ...j, ...patch } : j)));

  function add(files: File[]) {
    const base = opts.folder === '/' ? '' : opts.folder;
    const added = files.map((file): Job => {
      // A folder picked or dropped keeps its structure under the target folder.
      const rel = file.webkitRelativePath?.split('/').slice(0, -1).join('/');
      return { key: nextKey++, file, folder: rel ? `${base}/${rel}` : opts.folder, status: 'queued', loaded: 0, speed: 0 };
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
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('folder', job.folder);
    form.append('is_public', String(opts.isPublic));
    if (opts.expiresIn > 0) form.append('expires_in', String(opts.expiresIn));
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
        update(job.key, { status: 'done', loaded: job.file.size, xhr: undefined });
        onUploaded(body.file);
      } else {
        const err = describeError(xhr.status, body as never, xhr.getResponseHeader('retry-after'));
        update(job.key, { status: 'failed', error: err.message, xhr: undefined });
      }
    };
    xhr.onerror = () => update(job.key, { status: 'failed', error: 'The upload was interrupted. Check your connection and retry.', xhr: undefined });
    xhr.onabort = () => update(job.key, { status: 'cancelled', xhr: undefined });
    xhr.open('POST', '/api/files');
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.send(form);
    update(job.key, { status: 'uploading', xhr, loaded: 0, error: undefined });
  }

  const active = jobs.filter((j) => j.status === 'uploading' || j.status === 'queued').length;
  const done = jobs.filter((j) => j.status === 'done').length;
  const failed = jobs.filter((j) => j.status === 'failed').length;
  return (
    <section class="uploader card" aria-label="Upload">
      <div class="drop">
        <p>
          <strong>Drop files here</strong>, paste an image, or{' '}
          <button type="button" class="link" onClick={() => input.current?.click()}>choose files</button>
          {' '}or a{' '}
          <button type="button" class="link" onClick={() => dirInput.current?.click()}>folder</button>.
        </p>
        <input ref={input} type="file" multiple hidden aria-label="Choose files" onChange={(e) => add([...((e.currentTarget as HTMLInputElement).files ?? [])])} />
        <input ref={dirInput} type="file" multiple hidden aria-label="Choose a folder" {...{ webkitdirectory: '' }} onChange={(e) => add([...((e.currentTarget as HTMLInputElement).files ?? [])])} />
      </div>
      <div class="upload-options">
        <label>
          Folder <input value={opts.folder} size={12} onInput={(e) => setOpts({ ...opts, folder: (e.currentTarget as HTMLInputElement).value || '/' })} />
        </label>
        <label>
          Visibility{' '}
          <select value={opts.isPublic ? 'public' : 'private'} onChange={(e) => setOpts({ ...opts, isPublic: (e.currentTarget as HTMLSelectElement).value === 'public' })}>
            <option value="public">Public</option>
            <option value="private">Private</option>
          </select>
        </label>
        <label>
          Expires{' '}
          <select value={String(opts.expiresIn)} onChange={(e) => setOpts({ ...opts, expiresIn: Number((e.currentTarget as HTMLSelectElement).value) })}>
            <option value="0">Never</option>
            <option value="3600">In 1 hour</option>
            <option value="86400">In 1 day</option>
            <option value="604800">In 7 days</option>
            <option value="2592000">In 30 days</option>
          </select>
        </label>
      </div>
      {jobs.length > 0 && (
        <ul class="jobs" aria-live="polite">
          {jobs.map((j) => (
            <li key={j.key} class={`job ${j.status}`} data-status={j.status}>
              <span class="job-name">{j.file.name || 'pasted image'}</span>
              <progress max={j.file.size || 1} value={j.status === 'done' ? j.file.size : j.status === 'failed' ? 0 : j.loaded} aria-label={`Upload of ${j.file.name}`} />
              <span class="job-info">
                {j.status === 'uploading' && `${formatBytes(j.loaded)} of ${formatBytes(j.file.size)} · ${formatBytes(j.speed)}/s`}
                {j.status === 'queued' && 'Waiting…'}
                {j.status === 'done' && `Uploaded · ${formatBytes(j.file.size)}`}
                {j.status === 'cancelled' && 'Cancelled'}
                {j.status === 'failed' && <span class="error" role="alert">{j.error}</span>}
              </span>
              {(j.status === 'uploading' || j.status === 'queued') && (
                <button type="button" class="small" onClick={() => (j.xhr ? j.xhr.abort() : update(j.key, { status: 'cancelled' }))}>Cancel</button>
              )}
              {(j.status === 'failed' || j.status === 'cancelled') && (
                <button type="button" class="small" onClick={() => update(j.key, { status: 'queued', loaded: 0, error: undefined })}>Retry</button>
              )}
            </li>
          ))}
        </ul>
      )}
      {active === 0 && jobs.length > 0 && (
        <div class="jobs-done">
          <p class={failed ? 'error' : 'notice'} role="status">
            {failed === 0 ? 'All uploads finished.' : `${done} uploaded, ${failed} failed: see the reasons above, then retry or pick other files.`}
          </p>
          <button type="button" class="small" onClick={() => setJobs((js) => js.filter((j) => j.status === 'failed'))}>Clear finished</button>
        </div>
      )}
    </section>
  );
}
