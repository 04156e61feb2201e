import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, formatBytes, formatWhen, type FileItem, type ServerInfo } from '../api';
import { Builder, Ctl } from '../components/Builder';
import { CopyField } from '../components/Copy';
import { exifRows } from '../components/exif';
import { LinkBaseNotice } from '../components/LinkBaseNotice';
import { isRaster, localPath } from '../components/Thumb';
import { setTitle } from '../page-change';
import { navigate } from '../router';
import { VideoBuilder } from '../components/VideoBuilder';
import { VideoFacts, VideoView, type VideoMeta } from '../components/VideoView';
import { Shares } from '../components/Shares';
import { OutcomeLine, type Outcome } from '../components/Outcome';
import { libraryViewOf } from '../library-return';
import { BusyButton } from '../components/BusyButton';
import { FormDialog } from '../components/Dialog';

type Metadata = Record<string, unknown> & { exif?: Record<string, unknown>; video?: VideoMeta };

/** Custom metadata as editable lines `key=value`, and back; a line without `=` is refused here, in words. */
const metaText = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join('\n');
function parseMetaText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`Custom metadata: “${line.length > 40 ? `${line.slice(0, 40)}…` : line}” is not a key=value line, such as camera=x100v.`);
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** A refused edit in the form's words: the API names its fields ("expires_at must be in the future."). */
function editError(err: unknown): string {
  if (err instanceof ApiError && err.code === 'VALIDATION_ERROR' && /^expires_at must be in the future/.test(err.message)) {
    return 'The expiry must be in the future: choose a later date and time, or empty the field for never.';
  }
  return errorText(err);
}

/** A private file's signed original: inline for the preview, as an attachment for "Download" (valid an hour). */
async function signOriginal(id: string): Promise<{ preview: string; download: { href: string; until: number } }> {
  const s = await api<{ url: string; download_url?: string; expires_at: string }>('POST', `/api/files/${id}/signed-url`, { original: true, expires_in: 3600 });
  return { preview: localPath(s.url), download: { href: localPath(s.download_url ?? s.url), until: Date.parse(s.expires_at) } };
}

/** Images a browser shows as they are; the other raster ones (HEIC, TIFF) are previewed as the server renders them. */
const SHOWN_AS_IS: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/svg+xml', 'image/bmp']);

/** A rendering for the preview (a phone's HEIC was a broken image in every browser but Safari), signed: whatever the file's visibility and the server's policy. */
async function signRendering(id: string): Promise<string> {
  const s = await api<{ url: string }>('POST', `/api/files/${id}/signed-url`, { transformations: 'w_2048,c_limit,f_auto', expires_in: 3600 });
  return localPath(s.url);
}

const toLocalInput = (iso: string | null) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');

export function Details({ id, info, onChange }: { id: string; info: ServerInfo; onChange: () => void }) {
  const [file, setFile] = useState<FileItem | null>(null);
  const [meta, setMeta] = useState<Metadata | null>(null);
  const [preview, setPreview] = useState('');
  /**
   * Where "Download" points: a public file's `/d/<id>`; a private one's signed `/d/s--…` (its
   * `/d/<id>` answers 404 to everyone, the owner too), with when that signature runs out.
   */
  const [download, setDownload] = useState<{ href: string; until: number } | null>(null);
  const [error, setError] = useState('');
  const [message, setMessage] = useState<Outcome>(null);
  const [deleting, setDeleting] = useState(false);
  const [edit, setEdit] = useState({ name: '', folder: '', isPublic: true, expires: '', tags: '', meta: '' });
  const [tx, setTx] = useState('f_auto');
  const [signTtl, setSignTtl] = useState('3600');
  const [signWith, setSignWith] = useState<'transform' | 'original'>('transform');
  const [signed, setSigned] = useState<{ url: string; expires_at: string } | null>(null);
  /** The signed-URL section's own outcome: shown beside its button (it went to the Edit form's line, off-screen). */
  const [signMessage, setSignMessage] = useState<Outcome>(null);
  /** Actions waiting for the server: each button says so and ignores repeat clicks. */
  const [saving, setSaving] = useState(false);
  const [signing, setSigning] = useState(false);
  useEffect(() => {
    if (file) setTitle(file.name);
    else if (error) setTitle('File not available');
  }, [file?.name, error]);

  /** The file shown: a signed preview that arrives after the page moved on to another is dropped. */
  const shownId = useRef('');
  const show = (f: FileItem) => {
    shownId.current = f.id;
    setFile(f);
    setEdit({ name: f.name, folder: f.folder, isPublic: f.is_public, expires: toLocalInput(f.expires_at), tags: f.tags.join(', '), meta: metaText(f.custom_metadata) });
    const rendered = isRaster(f) && !SHOWN_AS_IS.has(f.content_type);
    if (rendered) {
      setPreview('');
      signRendering(f.id)
        .then((url) => shownId.current === f.id && setPreview(url))
        .catch(() => shownId.current === f.id && setPreview(''));
    }
    if (f.is_public) {
      if (!rendered) setPreview(localPath(f.url));
      setDownload({ href: localPath(f.download_url), until: Infinity });
    } else {
      // Private: a short-lived signed URL of the original, made by the same public API; its
      // `download_url` is the same signature served as an attachment.
      setDownload(null);
      signOriginal(f.id)
        .then((s) => {
          if (!rendered) setPreview(s.preview);
          setDownload(s.download);
        })
        .catch(() => {
          if (!rendered) setPreview('');
          // The owner's own download, by the session cookie (a plain link sends it).
          setDownload({ href: `/api/files/${encodeURIComponent(f.id)}/original`, until: Infinity });
        });
    }
  };
  /** Follows a signed download link that has run out (the page was left open): signs again first. */
  const onDownload = (e: MouseEvent) => {
    if (!file || !download || download.until > Date.now() + 60_000) return;
    e.preventDefault();
    const name = file.name;
    signOriginal(file.id).then((s) => {
      setDownload(s.download);
      // A detached link: clicking the page's own would run this handler again, with the old state.
      const a = document.createElement('a');
      a.href = s.download.href;
      a.download = name;
      a.click();
    }, (err: unknown) => setMessage({ ok: false, text: errorText(err) }));
  };
  useEffect(() => {
    setError('');
    api<FileItem>('GET', `/api/files/${encodeURIComponent(id)}`).then(show).catch((err) => setError(errorText(err)));
    api<Metadata>('GET', `/api/files/${encodeURIComponent(id)}/metadata`).then(setMeta).catch(() => setMeta(null));
  }, [id]);

  if (error) {
    return (
      <div class="narrow">
        <h1 tabIndex={-1} id="gone-title">File not available</h1>
        <p class="error" role="alert">{error}</p>
        <p><a href="/">Back to the library</a></p>
      </div>
    );
  }
  if (!file) return <p class="loading" role="status">Loading file…</p>;

  // Deleted (or taken out of reach) in another tab or by a script: the page stops offering
  // actions on it. Each action answered "File not found." beside controls that stayed.
  const gone = () => {
    setError(`${file.name} is no longer here: it was deleted elsewhere.`);
    onChange();
    requestAnimationFrame(() => document.getElementById('gone-title')?.focus());
  };
  const isGone = (err: unknown) => err instanceof ApiError && err.status === 404;

  const save = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setSaving(true);
    try {
      const updated = await api<FileItem>('PATCH', `/api/files/${file.id}`, {
        name: edit.name,
        folder: edit.folder,
        is_public: edit.isPublic,
        expires_at: edit.expires ? new Date(edit.expires).toISOString() : null,
        tags: edit.tags.split(',').map((t) => t.trim()).filter(Boolean),
        custom_metadata: parseMetaText(edit.meta),
      });
      show(updated);
      onChange();
      setMessage({ ok: true, text: 'Changes saved.' });
    } catch (err) {
      if (isGone(err)) return gone();
      setMessage({ ok: false, text: editError(err) });
    } finally {
      setSaving(false);
    }
  };
  /** Runs from the dialog, which shows why when it fails. */
  const remove = async () => {
    try {
      await api('DELETE', `/api/files/${file.id}`);
    } catch (err) {
      if (isGone(err)) return gone();
      throw err;
    }
    onChange();
    // In place of the deleted file's page: Back led to "File not available".
    navigate(file.folder === '/' ? '/' : `/?${new URLSearchParams({ folder: file.folder })}`, true, `Deleted ${file.name}.`);
  };
  const sign = async () => {
    setSigned(null);
    setSignMessage(null);
    setSigning(true);
    try {
      const body = signWith === 'original' || !isRaster(file) ? { original: true, expires_in: Number(signTtl) } : { transformations: tx, expires_in: Number(signTtl) };
      setSigned(await api('POST', `/api/files/${file.id}/signed-url`, body));
    } catch (err) {
      if (isGone(err)) return gone();
      setSignMessage({ ok: false, text: errorText(err) });
    } finally {
      setSigning(false);
    }
  };

  const video = file.content_type.startsWith('video/');
  const image = file.content_type.startsWith('image/');
  const exif = meta?.exif && Object.keys(meta.exif).length ? meta.exif : null;
  return (
    <div class="details">
      <p class="crumbs"><a href={libraryViewOf(file.folder)}>← {file.folder === '/' ? 'Library' : file.folder}</a></p>
      <h1 class="file-title">{file.name}</h1>
      <div class="details-grid">
        <div class="preview card">
          {preview && image && <img src={preview} alt={file.name} />}
          {video && <VideoView file={file} original={preview} />}
          {((!preview && !video) || (!image && !video)) && (
            // `download` names the file: a bare attribute made Chromium suggest "true.json".
            <p>No preview for this type. {download ? <a href={download.href} download={file.name} onClick={onDownload}>Download {file.name}</a> : <span class="muted">Preparing its download link…</span>}</p>
          )}
        </div>
        <section class="card facts-card" aria-labelledby="facts-title">
          <h2 id="facts-title">About this file</h2>
          <dl class="facts">
            <dt>Folder</dt><dd>{file.folder}</dd>
            <dt>Size</dt><dd>{formatBytes(file.size)} ({file.size.toLocaleString()} bytes)</dd>
            <dt>Type</dt><dd>{file.content_type}</dd>
            {file.width && file.height ? <><dt>Dimensions</dt><dd>{file.width} × {file.height} px</dd></> : null}
            <dt>Visibility</dt><dd>{file.is_public ? 'Public' : 'Private'}</dd>
            <dt>Created</dt><dd>{formatWhen(file.created_at)}</dd>
            <dt>Expires</dt><dd>{formatWhen(file.expires_at, 'Never')}</dd>
            <dt>Tags</dt><dd>{file.tags.length ? file.tags.map((t) => <a key={t} class="tag" href={`/?${new URLSearchParams({ tag: t, recursive: '1' })}`}>{t}</a>) : 'None'}</dd>
            {Object.entries(file.custom_metadata).map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}
            <dt>SHA-256</dt><dd class="mono">{file.sha256}</dd>
            {meta?.format ? <><dt>Format</dt><dd>{formatName(file.content_type, String(meta.format))}{meta.color_space ? ` · ${String(meta.color_space)}` : ''}</dd></> : null}
            {meta?.video ? <VideoFacts v={meta.video} /> : null}
            {!meta?.video && typeof meta?.duration_s === 'number' ? <><dt>Duration</dt><dd>{meta.duration_s.toFixed(1)} s</dd></> : null}
          </dl>
          {exif && (
            <details>
              <summary>Camera (EXIF)</summary>
              <dl class="facts">{exifRows(exif).map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
            </details>
          )}
          <LinkBaseNotice url={file.url} />
          {file.is_public ? (
            <>
              <CopyField id="url-original" label="Original URL" value={file.url} />
              <CopyField id="url-download" label="Download URL" value={file.download_url} />
              <CopyField id="url-view" label="Share page (previews in chat apps)" value={file.view_url} />
            </>
          ) : (
            // A private file's own URLs answer 404 to everyone, so none is offered to copy.
            <p class="help">Private: its ordinary links open for no one. To give it to someone, make a share link or a signed URL below, or make it public.</p>
          )}
        </section>
      </div>
      {/* The way most people share a file, so before the builders (it sat 2 000 px down, under the transformation preview). */}
      <Shares file={file} onGone={gone} />
      {isRaster(file) && <Builder file={file} info={info} onChange={setTx} />}
      {video && <VideoBuilder file={file} />}
      <section class="card" aria-labelledby="sign-title">
        <h2 id="sign-title">Signed URL</h2>
        <p>A link that works for anyone until it expires, even for a private file.</p>
        <div class="controls">
          {isRaster(file) && (
            <Ctl id="sign-of" label="Sign">
              <select id="sign-of" value={signWith} onChange={(e) => setSignWith((e.currentTarget as HTMLSelectElement).value as 'transform' | 'original')}>
                <option value="transform">the transformation above ({tx})</option>
                <option value="original">the original</option>
              </select>
            </Ctl>
          )}
          <Ctl id="sign-ttl" label="Valid for">
            <select id="sign-ttl" value={signTtl} onChange={(e) => setSignTtl((e.currentTarget as HTMLSelectElement).value)}>
              <option value="900">15 minutes</option>
              <option value="3600">1 hour</option>
              <option value="86400">1 day</option>
              <option value="604800">7 days</option>
              <option value="2592000">30 days</option>
            </select>
          </Ctl>
          <BusyButton type="button" class="primary" busy={signing} onClick={sign}>{signing ? 'Signing…' : 'Create signed URL'}</BusyButton>
        </div>
        <OutcomeLine outcome={signMessage} />
        {signed && <CopyField id="signed-url" label={`Signed URL (expires ${formatWhen(signed.expires_at)})`} value={signed.url} />}
      </section>
      <section class="card" aria-labelledby="edit-title">
        <h2 id="edit-title">Edit</h2>
        <form class="edit" onSubmit={save}>
          <label for="f-name">Name</label>
          <input id="f-name" required value={edit.name} onInput={(e) => setEdit({ ...edit, name: (e.currentTarget as HTMLInputElement).value })} />
          <label for="f-folder">Folder</label>
          <input id="f-folder" required value={edit.folder} onInput={(e) => setEdit({ ...edit, folder: (e.currentTarget as HTMLInputElement).value })} />
          <label for="f-vis">Visibility</label>
          <select id="f-vis" value={edit.isPublic ? 'public' : 'private'} onChange={(e) => setEdit({ ...edit, isPublic: (e.currentTarget as HTMLSelectElement).value === 'public' })}>
            <option value="public">Public: anyone with the URL</option>
            <option value="private">Private: only you, share links and signed URLs</option>
          </select>
          <label for="f-exp">Expires (empty: never)</label>
          <input id="f-exp" type="datetime-local" value={edit.expires} onInput={(e) => setEdit({ ...edit, expires: (e.currentTarget as HTMLInputElement).value })} />
          <label for="f-tags">Tags (comma-separated)</label>
          <input id="f-tags" value={edit.tags} placeholder="holiday, beach" onInput={(e) => setEdit({ ...edit, tags: (e.currentTarget as HTMLInputElement).value })} />
          <label for="f-meta">Custom metadata (one <code>key=value</code> per line)</label>
          <textarea id="f-meta" rows={3} value={edit.meta} placeholder="camera=x100v" onInput={(e) => setEdit({ ...edit, meta: (e.currentTarget as HTMLTextAreaElement).value })} />
          <OutcomeLine outcome={message} />
          <div class="actions">
            <BusyButton type="submit" class="primary" busy={saving}>{saving ? 'Saving…' : 'Save changes'}</BusyButton>
            <button type="button" class="danger" onClick={() => setDeleting(true)}>Delete file</button>
          </div>
        </form>
        {deleting && (
          <FormDialog title={`Delete ${file.name}?`} submit="Delete" danger onClose={() => setDeleting(false)} onSubmit={remove}>
            <p>Its links and share links stop working. This cannot be undone.</p>
          </FormDialog>
        )}
      </section>
    </div>
  );
}

const CONTAINERS: Record<string, string> = {
  'video/mp4': 'MP4', 'video/webm': 'WebM', 'video/quicktime': 'QuickTime (MOV)', 'video/x-matroska': 'Matroska (MKV)',
};

/** The metadata's format for a person: a video's container by its type (ffprobe names a family: `mov,mp4,m4a,3gp,3g2,mj2`). */
const formatName = (contentType: string, format: string): string =>
  contentType.startsWith('video/') ? CONTAINERS[contentType] ?? format.split(',')[0]!.toUpperCase() : format;
