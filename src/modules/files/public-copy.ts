/**
 * The public copy of a photo that carries location (API.md §4: GPS goes to the owner only).
 * Made once at upload, before the file's row exists, so nothing is ever served publicly with
 * GPS: the stored original is read through ranged reads (the container structure only, see
 * gps.ts), and when it has location, the original is streamed once more into `<key>.public`
 * with the GPS blanked in place (same size, same pixels). `/i`, `/d` and signed original URLs
 * serve that copy; the owner's download serves the byte-exact original.
 *
 * `files.public_sha256` doubles as the "checked" mark: the copy's digest, or the original's when
 * it has no location. A row without it predates public copies; delivery makes its copy on the
 * first request (`ensurePublicCopy`) before serving any byte of it.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import type { StorageDriver } from '../../storage/types';
import { collectCapped } from '../../storage/types';
import { gpsPatches, LOCATION_TYPES, patchStream, type ByteSource } from './gps';
import { forgetFiles } from './invalidate';
import { files } from './table';

export interface PublicCopy {
  key: string;
  sha256: string;
}

/** Storage key of a file's location-free public copy. */
export const publicKeyOf = (storageKey: string) => `${storageKey}.public`;

/** Ranged reads are made in aligned blocks of this size, the last few kept (a container walk reads forward). */
const BLOCK = 256 * 1024;
const KEPT_BLOCKS = 4;

/**
 * Random access to a stored object through ranged `get`s; reads within `head` (the object's
 * first bytes, kept by the upload's inspector) are answered from it without touching storage.
 */
export function storageSource(storage: StorageDriver, key: string, size: number, head?: Uint8Array): ByteSource {
  const blocks = new Map<number, Uint8Array>();
  async function block(n: number): Promise<Uint8Array> {
    const hit = blocks.get(n);
    if (hit) return hit;
    const start = n * BLOCK;
    const end = Math.min(size, start + BLOCK) - 1;
    const stream = await storage.get(key, { start, end });
    const bytes = stream ? await collectCapped(stream, BLOCK) : new Uint8Array(0);
    blocks.set(n, bytes);
    if (blocks.size > KEPT_BLOCKS) blocks.delete(blocks.keys().next().value as number);
    return bytes;
  }
  return {
    size,
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      if (offset < 0 || offset >= end) return new Uint8Array(0);
      if (head && end <= head.byteLength) return head.subarray(offset, end);
      const first = Math.floor(offset / BLOCK);
      const last = Math.floor((end - 1) / BLOCK);
      if (first === last) return (await block(first)).subarray(offset - first * BLOCK, end - first * BLOCK);
      const out = new Uint8Array(end - offset);
      for (let n = first; n <= last; n++) {
        const b = await block(n);
        const from = Math.max(offset, n * BLOCK);
        const to = Math.min(end, n * BLOCK + b.byteLength);
        if (to > from) out.set(b.subarray(from - n * BLOCK, to - n * BLOCK), from - offset);
      }
      return out;
    },
  };
}

/**
 * Writes the location-free copy of a stored original when it has location; null when it has
 * none (then the original is what everyone gets). Throws on storage failure (the upload fails).
 */
export async function makePublicCopy(
  deps: AppDeps, original: { key: string; contentType: string; size: number; sha256: string; head?: Uint8Array },
): Promise<PublicCopy | null> {
  const { key, contentType, size } = original;
  if (!LOCATION_TYPES.has(contentType) || size === 0) return null;
  const patches = await gpsPatches(storageSource(deps.storage, key, size, original.head), contentType);
  if (patches.length === 0) return null;
  const body = await deps.storage.get(key);
  if (!body) throw new Error(`stored object ${key} vanished before its public copy was made`);
  const copy = publicKeyOf(key);
  const stored = await deps.storage.put(copy, patchStream(body, patches), { size, contentType });
  if (stored.sha256 === original.sha256) { // nothing changed after all (an already empty GPS directory)
    await deps.storage.delete(copy);
    return null;
  }
  return { key: copy, sha256: stored.sha256 };
}

/** What delivery knows of a file, as far as its public copy goes. */
export interface PublicCopyState {
  id: string;
  storageKey: string;
  contentType: string;
  size: number;
  sha256: string;
  publicStorageKey: string | null;
  publicSha256: string | null;
}

/** Copies being made for rows that predate public copies, so concurrent first requests share one. */
const making = new Map<string, Promise<PublicCopy | null>>();

/** `f` with its public copy, made now (and recorded) when its row predates public copies. */
export async function ensurePublicCopy<F extends PublicCopyState>(deps: AppDeps, f: F): Promise<F> {
  if (f.publicSha256 !== null || !LOCATION_TYPES.has(f.contentType)) return f;
  let pending = making.get(f.storageKey);
  if (!pending) {
    pending = recordPublicCopy(deps, f).finally(() => making.delete(f.storageKey));
    making.set(f.storageKey, pending);
  }
  const copy = await pending;
  return { ...f, publicStorageKey: copy?.key ?? null, publicSha256: copy?.sha256 ?? f.sha256 };
}

async function recordPublicCopy(deps: AppDeps, f: PublicCopyState): Promise<PublicCopy | null> {
  const copy = await makePublicCopy(deps, { key: f.storageKey, contentType: f.contentType, size: f.size, sha256: f.sha256 });
  const updated = await deps.db.update(files)
    .set({ publicStorageKey: copy?.key ?? null, publicSha256: copy?.sha256 ?? f.sha256 })
    .where(and(eq(files.id, f.id), isNull(files.deletedAt)))
    .returning({ id: files.id });
  // Deleted meanwhile: its purge may already have run, so the copy is removed here.
  if (updated.length === 0 && copy) await deps.storage.delete(copy.key);
  await forgetFiles(deps, [f.id]);
  return copy;
}
