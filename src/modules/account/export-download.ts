/**
 * The signed, single-use download of a ready export (`GET /api/account/exports/:id/download`).
 *
 * "Once" means once delivered, not once asked for: the link is spent (the export marked
 * `downloaded`, its archive removed) only when a response has handed the archive's last byte to
 * the connection. A HEAD, a download cut off (the client or the network gone), or a range short
 * of the end leave the link working until it expires. Several requests may stream at once; the
 * first to finish spends it, and later requests are 410.
 *
 * Ranges are served (206) rather than refused: an archive of a whole account can be gigabytes,
 * and browsers, curl `-C -`, wget `-c` and download managers resume a broken transfer with
 * `Range: bytes=N-` (or split it into ranges, aria2 `-x`), which only works against 206. The
 * response that carries the last byte spends the link, so a client reading ranges out of order
 * should fetch the tail last.
 */
import { and, eq, gt } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { gone, invalidSignature, rangeNotSatisfiable } from '../../errors';
import { parseRange } from '../delivery/http';
import { enqueueBlobDelete } from '../files/blobs';
import { verifySignature } from '../transform/sign';
import { exportPayload } from './export';
import { accountExports, type AccountExportRow } from './table';

export interface ExportDownloadRequest {
  /** HEAD: the headers only, the link stays unspent. */
  head: boolean;
  range: string | null;
  ifRange: string | null;
}

export interface ExportDownload {
  status: 200 | 206;
  headers: Record<string, string>;
  /** Bytes of the body (also for HEAD, which has none). */
  length: number;
  /** Null for HEAD. */
  body: ReadableStream<Uint8Array> | null;
}

const notReady = () => gone('This export was already downloaded, has expired, or is not ready.');

/** Checks the link and the export, and opens the archive (or the asked range of it) for sending. */
export async function openExportDownload(deps: AppDeps, id: string, expires: number, signature: string, req: ExportDownloadRequest): Promise<ExportDownload> {
  if (!verifySignature(deps.secrets.signingSecrets, exportPayload(id, expires), signature)) throw invalidSignature();
  if (expires * 1000 <= deps.clock.now()) throw gone('This export link has expired.');
  const [row] = await deps.db.select().from(accountExports)
    .where(and(eq(accountExports.id, id), eq(accountExports.status, 'ready'), gt(accountExports.expiresAt, new Date(deps.clock.now()))));
  if (!row?.storageKey || row.size === null) throw notReady();
  const size = row.size;
  // The archive never changes once ready: its id is a strong validator for If-Range.
  const etag = `"${row.id}"`;
  const lastModified = (row.finishedAt ?? row.createdAt).toUTCString();
  const rangeValid = req.ifRange === null || req.ifRange === etag || req.ifRange === lastModified;
  const range = rangeValid ? parseRange(req.range, size) : { kind: 'full' as const };
  if (range.kind === 'unsatisfiable') throw rangeNotSatisfiable(size);
  const partial = range.kind === 'partial' ? range : null;
  const length = partial ? partial.end - partial.start + 1 : size;
  const headers: Record<string, string> = {
    'content-type': 'application/zip',
    'content-length': String(length),
    'content-disposition': `attachment; filename="pictor-export-${row.createdAt.toISOString().slice(0, 10)}.zip"`,
    'cache-control': 'no-store',
    'accept-ranges': 'bytes',
    etag,
    'last-modified': lastModified,
  };
  if (partial) headers['content-range'] = `bytes ${partial.start}-${partial.end}/${size}`;
  const status = partial ? 206 : 200;
  if (req.head) return { status, headers, length, body: null };
  const source = await deps.storage.get(row.storageKey, partial ?? undefined);
  if (!source) throw gone('This export is no longer stored.');
  const reachesEnd = !partial || partial.end === size - 1;
  return { status, headers, length, body: reachesEnd ? spendWhenSent(source, length, () => spendExport(deps, row)) : source };
}

/**
 * Passes the archive through and calls `spend` once the reader has taken every one of its
 * `length` bytes and asks for more. With no buffer of its own (high-water mark 0) a chunk is read
 * from storage only when the server asks for it, so the end is reached only after the last chunk
 * went to the connection. A client that goes away cancels the stream, which also ends a read in
 * flight with `done`: hence the flag and the byte count, so a cut-off download never spends.
 */
function spendWhenSent(source: ReadableStream<Uint8Array>, length: number, spend: () => Promise<void>): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let sent = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await reader.read();
      if (!done) {
        sent += value.byteLength;
        return c.enqueue(value);
      }
      if (cancelled) return;
      // Spent before the response ends: a client that saw the whole archive can rely on the link being used.
      if (sent === length) await spend();
      c.close();
    },
    cancel: (reason) => {
      cancelled = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Marks the export downloaded (one finished download wins) and removes its archive; a durable
 * `blob_delete` job an hour later removes it should this process fail to. Range requests still
 * streaming keep reading (an open file outlives its unlink; S3 finishes a GET under way).
 */
async function spendExport(deps: AppDeps, row: AccountExportRow): Promise<void> {
  const now = new Date(deps.clock.now());
  try {
    const taken = await deps.db.transaction(async (tx) => {
      const [won] = await tx.update(accountExports).set({ status: 'downloaded', downloadedAt: now })
        .where(and(eq(accountExports.id, row.id), eq(accountExports.status, 'ready'))).returning({ key: accountExports.storageKey });
      if (won?.key) await enqueueBlobDelete(tx, deps.storage.kind, won.key, { runAt: new Date(now.getTime() + 3_600_000) });
      return won;
    });
    const key = taken?.key;
    if (key) void deps.storage.delete(key).catch((err: unknown) => deps.log.warn({ err, key }, 'export object not removed; its job will'));
  } catch (err) {
    // The client has the archive; the link stays usable until it expires (the hourly prune removes it then).
    deps.log.error({ err, export_id: row.id }, 'export sent but not marked downloaded');
  }
}
