import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText, formatWhen, type FileItem, type Page, type ShareLink } from '../api';
import { Ctl } from './Builder';
import { CopyField } from './Copy';
import { OutcomeLine, type Outcome } from './Outcome';
import { BusyButton } from './BusyButton';
import { FormDialog } from './Dialog';

const STATUS = { active: 'Active', expired: 'Expired', used_up: 'Out of views' } as const;

/**
 * When a link stops working: its own expiry, or the file's when that comes first (the file is
 * deleted then; the API's `expires_at` is already the earlier of the two, so equal means the file's).
 */
function linkEnd(link: ShareLink, file: FileItem): string {
  const own = link.expires_at ? Date.parse(link.expires_at) : Infinity;
  if (file.expires_at && Date.parse(file.expires_at) <= own) return `ends with the file, ${formatWhen(file.expires_at)}`;
  if (!link.expires_at) return 'no expiry';
  return `${own <= Date.now() ? 'expired' : 'expires'} ${formatWhen(link.expires_at)}`;
}

/** Protected share links of one file (`/api/files/:id/shares`): create, list with their counters, revoke. */
export function Shares({ file, onGone }: { file: FileItem; onGone: () => void }) {
  const [links, setLinks] = useState<ShareLink[]>([]);
  const [form, setForm] = useState({ password: '', maxViews: '', ttl: '' });
  const [message, setMessage] = useState<Outcome>(null);
  const [created, setCreated] = useState<string | null>(null);
  /** A creation waiting for the server: the button says so, and a second click makes no second link. */
  const [creating, setCreating] = useState(false);

  const load = () => api<Page<ShareLink>>('GET', `/api/files/${file.id}/shares`).then((p) => setLinks(p.results)).catch((err) => setMessage({ ok: false, text: errorText(err) }));
  useEffect(() => {
    void load();
  }, [file.id]);

  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    const body: Record<string, unknown> = {};
    if (form.password) body.password = form.password;
    if (form.maxViews) body.max_views = Number(form.maxViews);
    if (form.ttl) body.expires_in = Number(form.ttl);
    setCreating(true);
    try {
      const link = await api<ShareLink>('POST', `/api/files/${file.id}/shares`, body);
      setCreated(link.id);
      setForm({ password: '', maxViews: '', ttl: '' });
      // The list first, then the message: a reader of "created" finds the link in the list.
      await load();
      setMessage({ ok: true, text: 'Share link created.' });
    } catch (err) {
      // The file was deleted elsewhere: the page says so instead of offering links to nothing.
      if (err instanceof ApiError && err.status === 404) return onGone();
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setCreating(false);
    }
  };
  const [revoking, setRevoking] = useState<ShareLink | null>(null);
  /** Runs from the dialog, which shows why when it fails; the pressed button leaves with its row, so the dialog hands the focus to the section's heading. */
  const revoke = async (link: ShareLink) => {
    // A 404: revoked elsewhere already, which is what was asked (the dialog stayed open on it).
    const already = await api('DELETE', `/api/files/${file.id}/shares/${link.id}`).then(() => false, (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return true;
      throw err;
    });
    // Gone from the list in the same render as the message (the reload then brings the counters up to date).
    setLinks((all) => all.filter((l) => l.id !== link.id));
    setMessage({ ok: true, text: already ? 'That link had already been revoked.' : 'Link revoked.' });
    void load();
  };

  return (
    <section class="card" aria-labelledby="shares-title">
      <h2 id="shares-title" tabIndex={-1}>Share links</h2>
      <p>The simplest way to give this file to someone, even a private one: the link opens a page with the file and a Download button. Add a password, a limit on views or an expiry if you like; you can revoke it at any time.</p>
      <form class="controls" onSubmit={create}>
        <Ctl id="share-password" label="Password (optional)">
          <input id="share-password" type="password" autocomplete="new-password" maxLength={256} value={form.password}
            onInput={(e) => setForm({ ...form, password: (e.currentTarget as HTMLInputElement).value })} />
        </Ctl>
        <Ctl id="share-views" label="Maximum views (optional)">
          <input id="share-views" type="number" min={1} max={1000000} value={form.maxViews}
            onInput={(e) => setForm({ ...form, maxViews: (e.currentTarget as HTMLInputElement).value })} />
        </Ctl>
        <Ctl id="share-ttl" label="Expires">
          <select id="share-ttl" value={form.ttl} onChange={(e) => setForm({ ...form, ttl: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{file.expires_at ? 'With the file' : 'Never'}</option>
            <option value="3600">In 1 hour</option>
            <option value="86400">In 1 day</option>
            <option value="604800">In 7 days</option>
            <option value="2592000">In 30 days</option>
          </select>
        </Ctl>
        <BusyButton type="submit" class="primary" busy={creating}>{creating ? 'Creating…' : 'Create link'}</BusyButton>
      </form>
      <OutcomeLine outcome={message} />
      {links.length > 0 && (
        <ul class="share-list" aria-label="Share links of this file">
          {links.map((l) => (
            <li key={l.id} class="share-item" data-share-id={l.id}>
              <CopyField id={`share-${l.id}`} label={`${l.id === created ? 'New link' : 'Link'}${l.has_password ? ' (password)' : ''}`} value={l.url} />
              <p class="share-facts">
                <span>{STATUS[l.status]}</span>
                {' · '}<span>{l.views}{l.max_views !== null ? ` of ${l.max_views}` : ''} {l.views === 1 && l.max_views === null ? 'view' : 'views'}</span>
                {' · '}<span>{linkEnd(l, file)}</span>
                {' '}<button type="button" class="danger" onClick={() => setRevoking(l)} aria-label={`Revoke link ${l.url}`}>Revoke</button>
              </p>
            </li>
          ))}
        </ul>
      )}
      {revoking && (
        <FormDialog title="Revoke this link?" submit="Revoke link" danger returnTo="shares-title" onClose={() => setRevoking(null)} onSubmit={() => revoke(revoking)}>
          <p>It stops working at once. A page someone already opened keeps showing the file until its addresses expire, within two hours.</p>
        </FormDialog>
      )}
    </section>
  );
}
