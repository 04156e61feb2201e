/**
 * The app's uploads, kept for the whole visit rather than by the library page: opening a file or
 * another section while photos upload left the queue behind (the files waiting their turn were
 * never sent, without a word). Any page may show them (`useUploadJobs`); the library adds each
 * finished file to its grid (`onFileUploaded`).
 *
 * Over tus (resumable) when the server offers it, else with XMLHttpRequest (fetch cannot report
 * upload progress). Three files at a time, each with its bytes, speed, cancel and retry; a
 * refusal (413, 415, 429, 507) is the sentence `describeError` makes of the server's envelope. A
 * tus upload whose connection drops resumes from the server's offset: by itself when the
 * browser comes back online (or after a short retry), or with Retry.
 */
import { useEffect, useState } from 'preact/hooks';
import { Upload, type DetailedError } from 'tus-js-client';
import { api, csrfToken, describeError, type FileItem } from './api';

export interface UploadJob {
  key: number;
  file: File;
  folder: string;
  /** `is_public` / `expires_in` as the form showed them when the file was added. */
  fields: Record<string, string>;
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
  /** A request failed and is being retried by itself: why, and which retry ("2 of 6"). */
  retrying?: string;
  /** Done: the account's other files with the same bytes (`sha256=` of the list), when there are any. */
  copies?: Pick<FileItem, 'id' | 'name' | 'folder'>[];
  /** How many such files there are in all (`copies` holds the first three). */
  copiesTotal?: number;
}

const PARALLEL = 3;
/** Refusals of the file itself: the same bytes would be refused again. */
const isFinal = (code: string) => code === 'FILE_TOO_LARGE' || code === 'UNSUPPORTED_MEDIA_TYPE';
const TUS_ENDPOINT = '/api/uploads/tus';
/** tus PATCH size: what a dropped connection can cost at most to re-send (the server keeps what arrived anyway). */
const TUS_CHUNK = 16 * 1024 * 1024;
const INTERRUPTED = 'The upload was interrupted. Check your connection and retry.';

let nextKey = 1;
let jobs: UploadJob[] = [];
const listeners = new Set<(jobs: UploadJob[]) => void>();
const uploadedListeners = new Set<(file: FileItem) => void>();
const staleListeners = new Set<() => void>();

const isActive = (j: UploadJob) => j.status === 'uploading' || j.status === 'queued';

/** Leaving or reloading the page ends the uploads still going: the browser asks first. */
function warnOnLeave(e: BeforeUnloadEvent): void {
  e.preventDefault();
  e.returnValue = ''; // older Chromium asks only when this is set
}
let warning = false;

function set(next: UploadJob[]): void {
  jobs = next;
  const active = jobs.some(isActive);
  if (active !== warning) {
    warning = active;
    if (active) addEventListener('beforeunload', warnOnLeave);
    else removeEventListener('beforeunload', warnOnLeave);
  }
  for (const l of listeners) l(jobs);
  pump();
}

const update = (key: number, patch: Partial<UploadJob>) => set(jobs.map((j) => (j.key === key ? { ...j, ...patch } : j)));
const statusOfJob = (key: number) => jobs.find((j) => j.key === key)?.status;

/** Starts the next queued file while fewer than PARALLEL run (each start comes back here). */
function pump(): void {
  if (jobs.filter((j) => j.status === 'uploading').length >= PARALLEL) return;
  const next = jobs.find((j) => j.status === 'queued');
  if (next) start(next);
}

/** Hands the file to the library, then looks for earlier copies of the same bytes in the account. */
function finished(key: number, file: FileItem): void {
  for (const l of uploadedListeners) l(file);
  api<{ results: FileItem[]; count: number }>('GET', `/api/files?${new URLSearchParams({ sha256: file.sha256, sort: 'created_at', limit: '4' })}`)
    .then((r) => {
      const found = earlierCopies(file, r);
      if (found) update(key, { copies: found.copies, copiesTotal: found.total });
    }, () => {}); // a notice, not the upload: its failure changes nothing
}

/** Asks a few times for a file a tus upload stored (a dropped connection is not the upload's failure). */
async function fetchStored(id: string): Promise<FileItem> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api<FileItem>('GET', `/api/files/${encodeURIComponent(id)}`);
    } catch (err) {
      if (attempt === 3) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** A stored file could not be handed to the library: the lists shown may lack it, and load again. */
function listStale(): void {
  for (const l of staleListeners) l();
}

type Listed = Pick<FileItem, 'id' | 'name' | 'folder' | 'created_at'>;

/**
 * The files stored before `file` with its bytes, from the oldest page of `?sha256=` (oldest
 * first): at most three to name, and how many in all; null when there are none. Earlier ones
 * only: of two equal files sent together, both finished before either asked, the later one is
 * the copy (each was said to be a copy of the other).
 */
export function earlierCopies(file: Listed, list: { results: Listed[]; count: number }): { copies: Pick<FileItem, 'id' | 'name' | 'folder'>[]; total: number } | null {
  const earlier = list.results.filter((f) => f.id !== file.id && f.created_at < file.created_at);
  if (earlier.length === 0) return null;
  // This file on the page: those before it are all of them; past the page, every other one is as old or older.
  const total = list.results.some((f) => f.id === file.id) ? earlier.length : list.count - 1;
  return { copies: earlier.slice(0, 3).map(({ id, name, folder }) => ({ id, name, folder })), total };
}

/** The uploads of this visit, re-rendered as they progress. */
export function useUploadJobs(): UploadJob[] {
  const [now, setNow] = useState(jobs);
  useEffect(() => {
    listeners.add(setNow);
    setNow(jobs);
    return () => void listeners.delete(setNow);
  }, []);
  return now;
}

/** Calls `fn` with each file an upload of this visit has stored; returns the unsubscribe. */
export function onFileUploaded(fn: (file: FileItem) => void): () => void {
  uploadedListeners.add(fn);
  return () => void uploadedListeners.delete(fn);
}

/** Calls `fn` when an upload stored a file this page could not fetch (reload the list to show it); returns the unsubscribe. */
export function onListStale(fn: () => void): () => void {
  staleListeners.add(fn);
  return () => void staleListeners.delete(fn);
}

/** Queues files (finished ones leave the list); `refusal` marks one refused before sending (over the size limit). */
export function addUploads(files: { file: File; folder: string; fields: Record<string, string>; refusal?: string }[]): void {
  const added = files.map(({ file, folder, fields, refusal }): UploadJob => ({
    key: nextKey++, file, folder, fields, loaded: 0, speed: 0,
    ...(refusal ? { status: 'failed', final: true, error: refusal } : { status: 'queued' }),
  }));
  set([...jobs.filter((j) => j.status !== 'done'), ...added]);
}

export function cancelUpload(key: number): void {
  const job = jobs.find((j) => j.key === key);
  if (job?.cancel) job.cancel();
  else if (job && isActive(job)) update(key, { status: 'cancelled' });
}

export const retryUpload = (key: number) => update(key, { status: 'queued', loaded: 0, error: undefined });
export const removeUpload = (key: number) => set(jobs.filter((j) => j.key !== key));
/** Signed out: what is still going stops and the list empties (the next account must not see this one's files). */
export function resetUploads(): void {
  for (const j of jobs.filter(isActive)) cancelUpload(j.key);
  set([]);
}

/** Keeps the failed ones only (the list's "Clear finished"). */
export const clearFinishedUploads = () => set(jobs.filter((j) => j.status === 'failed'));

let tusCheck: Promise<boolean> | null = null;
/** Whether the server offers tus 1.0.0 (its OPTIONS discovery), asked once per visit. */
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

function start(job: UploadJob): void {
  update(job.key, { status: 'uploading', loaded: 0, error: undefined, offline: false, retrying: undefined });
  if (job.upload) return resumeTus(job, job.upload);
  // An empty file goes by XHR: tus-js-client reports an empty upload done without sending it.
  void (job.file.size > 0 ? tusOffered() : Promise.resolve(false)).then((tus) => {
    if (statusOfJob(job.key) !== 'uploading') return; // cancelled meanwhile
    if (tus) startTus(job);
    else startXhr(job);
  });
}

/**
 * Retries of a failed tus request, in ms. Together longer than the 30 s a PATCH holds its upload
 * (`LEASE_MS`): after the server that received one dies, another answers 423 until then, and the
 * upload failed with the 19 s these were.
 */
export const TUS_RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];

/** Why a tus request is retried, for the upload's row. */
function retryReason(status: number): string {
  if (status === 0) return 'The connection dropped';
  if (status === 423) return 'The server is finishing an interrupted request';
  if (status === 409) return 'The server and this page disagreed on the offset';
  if (status === 503) return 'The server is busy';
  return `The server had an error (HTTP ${status})`;
}

function startTus(job: UploadJob): void {
  let began = performance.now();
  let from = 0;
  const running = () => statusOfJob(job.key) === 'uploading';
  const upload: Upload = new Upload(job.file, {
    endpoint: TUS_ENDPOINT,
    chunkSize: TUS_CHUNK,
    uploadDataDuringCreation: true,
    // A drop within one visit resumes; across reloads a file might come back with other options.
    storeFingerprintForResuming: false,
    retryDelays: TUS_RETRY_DELAYS,
    metadata: {
      filename: job.file.name || 'pasted-image.png',
      ...(job.file.type ? { filetype: job.file.type } : {}),
      folder: job.folder,
      ...job.fields,
    },
    headers: { accept: 'application/json' },
    // The cookie session's CSRF token, read per request (a session refresh may have changed it).
    onBeforeRequest: (req) => req.setHeader('X-CSRF-Token', csrfToken()),
    // Offline: no retry now; the 'online' event resumes it (onError below).
    onShouldRetry: (err, attempt) => {
      const status = statusOf(err);
      const retry = navigator.onLine && (status === 0 || status >= 500 || status === 409 || status === 423);
      // Said on the row: its numbers stood still for up to 40 s, as if stuck.
      if (retry) update(job.key, { retrying: `${retryReason(status)}; retrying (${attempt + 1} of ${TUS_RETRY_DELAYS.length})…` });
      return retry;
    },
    onProgress: (sent) => {
      if (from < 0) from = sent;
      const secs = (performance.now() - began) / 1000;
      update(job.key, { loaded: sent, speed: secs > 0 ? Math.max(0, sent - from) / secs : 0, offline: false, retrying: undefined });
    },
    onSuccess: ({ lastResponse }) => {
      const id = lastResponse.getHeader('x-file-id');
      update(job.key, { status: 'done', loaded: job.file.size, cancel: undefined, upload: undefined, retrying: undefined });
      // Its last response names the file only: the file itself is asked for. Swallowed, a failure
      // here said "Uploaded" of a file that never joined the grid; now the library reloads instead.
      if (id) fetchStored(id).then((file) => finished(job.key, file), () => listStale());
    },
    onError: (err) => {
      const status = statusOf(err);
      if (status === 0 && !navigator.onLine && running()) {
        // Resumes from the server's offset (a HEAD, then the rest) once the network is back.
        update(job.key, { offline: true });
        window.addEventListener('online', () => {
          if (!running()) return;
          began = performance.now();
          from = -1;
          update(job.key, { offline: false });
          upload.start();
        }, { once: true });
        return;
      }
      if (status === 0) {
        // Kept: Retry resumes it where the server stands.
        update(job.key, { status: 'failed', error: INTERRUPTED, cancel: undefined, offline: false });
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

function resumeTus(job: UploadJob, upload: Upload): void {
  update(job.key, {
    upload,
    cancel: () => {
      update(job.key, { status: 'cancelled', cancel: undefined, upload: undefined, offline: false });
      void upload.abort(true).catch(() => {}); // and DELETE the unfinished upload
    },
  });
  upload.start();
}

function startXhr(job: UploadJob): void {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  form.append('folder', job.folder);
  for (const [k, v] of Object.entries(job.fields)) form.append(k, v);
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
      finished(job.key, body.file);
    } else {
      const err = describeError(xhr.status, body as never, xhr.getResponseHeader('retry-after'));
      update(job.key, { status: 'failed', error: err.message, final: isFinal(err.code), cancel: undefined });
    }
  };
  xhr.onerror = () => update(job.key, { status: 'failed', error: INTERRUPTED, cancel: undefined });
  xhr.onabort = () => update(job.key, { status: 'cancelled', cancel: undefined });
  xhr.open('POST', '/api/files');
  xhr.setRequestHeader('X-CSRF-Token', csrfToken());
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.send(form);
  update(job.key, { cancel: () => xhr.abort() });
}
