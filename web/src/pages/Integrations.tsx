/**
 * Integrations (issue #21): ready files for ShareX and Flameshot, each carrying a new API key
 * with exactly the scope an uploader needs (`files:write`), and a short guide to presigned
 * browser uploads from another site. Everything goes through the public API.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { CopyBlock, CopyField } from '../components/Copy';
import { download, flameshotScript, sharexConfig, type ToolOptions } from '../components/integrations';
import type { CreatedKey } from '../components/scopes';
import { BusyButton } from '../components/BusyButton';

type Tool = 'sharex' | 'flameshot';
const TOOL_SCOPES = ['files:write'];

export function Integrations() {
  const [folder, setFolder] = useState('/screenshots');
  const [isPublic, setIsPublic] = useState(true);
  const [busy, setBusy] = useState<Tool | null>(null);
  const [done, setDone] = useState<{ tool: Tool; keyName: string; prefix: string } | null>(null);
  const [error, setError] = useState('');

  const make = async (tool: Tool) => {
    if (busy !== null) return;
    setBusy(tool);
    setError('');
    setDone(null);
    const label = tool === 'sharex' ? 'ShareX' : 'Flameshot';
    const keyName = `${label} uploader (${new Date().toISOString().slice(0, 10)})`;
    try {
      const k = await api<CreatedKey>('POST', '/api/auth/api-keys', { name: keyName, scopes: TOOL_SCOPES });
      const o: ToolOptions = { origin: location.origin, key: k.key, keyName, folder: folder.trim() || '/', isPublic };
      const host = location.hostname.replace(/[^A-Za-z0-9.-]/g, '_');
      if (tool === 'sharex') download(`pictor-${host}.sxcu`, 'application/json', sharexConfig(o));
      else download('pictor-upload.sh', 'text/x-shellscript', flameshotScript(o));
      setDone({ tool, keyName, prefix: k.key_prefix });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>Integrations</h1>
        <p class="lede">Upload screenshots straight from your desktop. Each download carries a new API key that can only upload (<code>files:write</code>): it cannot read, list or delete your files. You can revoke it any time on the <a href="/keys">API keys</a> page.</p>
      </div>

      <section class="card" aria-labelledby="opts-title">
        <h2 id="opts-title">Where uploads go</h2>
        <div class="controls">
          <div class="ctl">
            <label for="int-folder">Folder</label>
            <input id="int-folder" value={folder} onInput={(e) => setFolder((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <label class="check"><input type="checkbox" checked={isPublic} onChange={(e) => setIsPublic((e.currentTarget as HTMLInputElement).checked)} /> Public links (anyone with the link can open the upload)</label>
        </div>
        {!isPublic && <p class="help">Private uploads open only for you (signed in), and through the share links and signed URLs you make.</p>}
      </section>

      {error && <p class="error" role="alert">{error}</p>}
      {done && (
        <p class="notice done" role="status">
          Downloaded. It holds the new key “{done.keyName}” (<code>{done.prefix}…</code>, files:write), which is not shown anywhere else.
        </p>
      )}

      <div class="tools">
        <section class="card tool" aria-labelledby="sharex-title">
          <h2 id="sharex-title">ShareX <span class="muted">(Windows)</span></h2>
          <ol>
            <li>Download the custom uploader file.</li>
            <li>Double-click it: ShareX imports it and makes Pictor the destination for images and files.</li>
            <li>Take a screenshot: ShareX uploads it and copies the link. <em>Deletion URL</em> in its history opens the file’s page here, with its Delete file button.</li>
          </ol>
          <BusyButton type="button" class="primary" busy={busy !== null} onClick={() => make('sharex')}>
            {busy === 'sharex' ? 'Creating key…' : 'Download the .sxcu file'}
          </BusyButton>
        </section>

        <section class="card tool" aria-labelledby="flameshot-title">
          <h2 id="flameshot-title">Flameshot or curl <span class="muted">(Linux, macOS)</span></h2>
          <ol>
            <li>Download the script and make it runnable: <code>chmod +x pictor-upload.sh</code>.</li>
            <li>Bind <code>pictor-upload.sh</code> to a key: it opens <code>flameshot gui</code>, uploads the capture and copies the link.</li>
            <li>Or upload any file: <code>pictor-upload.sh photo.jpg</code> prints the link, and the file’s page for deleting it.</li>
          </ol>
          <BusyButton type="button" class="primary" busy={busy !== null} onClick={() => make('flameshot')}>
            {busy === 'flameshot' ? 'Creating key…' : 'Download pictor-upload.sh'}
          </BusyButton>
        </section>

        <section class="card tool" aria-labelledby="presign-title">
          <h2 id="presign-title">Uploads from your own site</h2>
          <p>Let visitors of another website upload into your account without ever seeing a key: your server asks Pictor for a one-time upload URL, the visitor’s browser posts the file to it.</p>
          <a class="button" href="/integrations/browser-upload">How presigned uploads work</a>
        </section>
      </div>
    </div>
  );
}

export function BrowserUpload() {
  const [url, setUrl] = useState<{ url: string; expires_at: string } | null>(null);
  const [error, setError] = useState('');
  const origin = location.origin;
  const presign = async () => {
    setError('');
    try {
      setUrl(await api('POST', '/api/uploads/presign', { folder: '/from-my-site', content_types: ['image/*'], expires_in: 900 }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const serverSide = `curl -s -X POST ${origin}/api/uploads/presign \\
  -H "Authorization: Bearer $PICTOR_KEY" -H 'Content-Type: application/json' \\
  -d '{"folder": "/from-my-site", "max_size": 5242880, "content_types": ["image/*"], "expires_in": 900}'
# → {"url": "${origin}/api/uploads/…", "expires_at": "…"}`;
  const page = `<input type="file" id="pick" accept="image/*">
<script>
  pick.onchange = async () => {
    // Your own endpoint, which runs the call above and returns its {url}.
    const { url } = await (await fetch('/pictor-upload-url', { method: 'POST' })).json();
    const form = new FormData();
    form.append('file', pick.files[0]);
    const res = await fetch(url, { method: 'POST', body: form });
    const body = await res.json();
    if (res.ok) console.log('Uploaded:', body.file.url);
    else alert(body.message); // e.g. FILE_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE
  };
</script>`;
  return (
    <div class="page prose">
      <p class="crumbs"><a href="/integrations">Integrations</a></p>
      <div class="page-head">
        <h1>Presigned browser uploads</h1>
        <p class="lede">A presigned URL is a one-time address a browser can upload one file to, without any credential: the URL itself is the permission. Your API key stays on your server.</p>
      </div>
      <section class="card">
        <h2>1. Your server asks for a URL</h2>
        <p>With a key that has <code>files:write</code>. The folder, the largest size, the allowed types and the visibility are fixed here; the uploader cannot change them.</p>
        <CopyBlock id="presign-curl" label="Server side: curl" value={serverSide} />
      </section>
      <section class="card">
        <h2>2. The visitor’s browser posts the file</h2>
        <p>The URL answers any origin (CORS <code>*</code>, no cookies), multipart with a <code>file</code> field or the raw bytes, exactly like <code>POST /api/files</code>.</p>
        <CopyBlock id="presign-page" label="Browser side: HTML and script" value={page} />
      </section>
      <section class="card">
        <h2>What to expect</h2>
        <ul>
          <li><strong>201</strong> with the file, as for a normal upload. The URL is then spent: a second upload gets <strong>409</strong>.</li>
          <li>A refused upload (too large, wrong type) leaves the URL usable until it expires (at most an hour): <strong>410</strong> after that, <strong>404</strong> for an unknown one.</li>
          <li>Your account’s limits apply too: the per-file limit from your settings, your storage quota, the upload rate limits.</li>
        </ul>
      </section>
      <section class="card">
        <h2>Try one</h2>
        <p>Make a URL for images into <code>/from-my-site</code>, valid for 15 minutes, then upload to it with curl.</p>
        <button type="button" class="primary" onClick={presign}>Make a presigned URL</button>
        {error && <p class="error" role="alert">{error}</p>}
        {url && (
          <>
            <CopyField id="presigned-url" label={`Upload URL (until ${new Date(url.expires_at).toLocaleTimeString()})`} value={url.url} />
            <CopyField id="presigned-curl" label="Test it" value={`curl -F file=@picture.png ${url.url}`} />
          </>
        )}
      </section>
    </div>
  );
}
