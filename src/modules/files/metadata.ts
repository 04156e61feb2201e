/**
 * `GET /api/files/:id/metadata`: header facts from sharp, selected EXIF (GPS only for the
 * owner), a blurhash and the dominant colour. Computed once per file from a small decode
 * (shrink-on-load) and cached in `files.meta`; non-images get the nulls.
 */
import { encode } from 'blurhash';
import exifReader from 'exif-reader';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import type { AppDeps } from '../../deps';
import { AppError, notFound } from '../../errors';
import { isDerivable } from './derivable';
import { dominantColor } from './dominant';
import type { FileMetadata } from './model';
import { files, type FileRow } from './table';
import { readableImage } from '../transform/heic';

/** Images larger than this are described without blurhash/colour (a full read would be needed). */
const MAX_ANALYSE_BYTES = 64 * 1024 * 1024;

const EXIF_KEEP: Record<string, readonly string[]> = {
  Image: ['Make', 'Model', 'Software', 'DateTime', 'Artist', 'Copyright', 'Orientation'],
  Photo: ['DateTimeOriginal', 'ExposureTime', 'FNumber', 'ISOSpeedRatings', 'FocalLength', 'LensModel', 'Flash', 'PixelXDimension', 'PixelYDimension'],
};

type Meta = typeof FileMetadata.static & { gps?: Record<string, unknown> };

const plain = (v: unknown): unknown =>
  v instanceof Date ? v.toISOString() : Buffer.isBuffer(v) ? undefined : Array.isArray(v) ? v.map(plain) : v;

function selectExif(raw: Buffer | undefined): { exif: Record<string, unknown>; gps?: Record<string, unknown> } {
  if (!raw) return { exif: {} };
  try {
    const parsed = exifReader(raw) as unknown as Record<string, Record<string, unknown> | undefined>;
    const exif: Record<string, unknown> = {};
    for (const [group, keys] of Object.entries(EXIF_KEEP)) {
      for (const k of keys) {
        const v = plain(parsed[group]?.[k]);
        if (v !== undefined) exif[k] = v;
      }
    }
    const gpsRaw = parsed.GPSInfo;
    const gps = gpsRaw ? Object.fromEntries(Object.entries(gpsRaw).map(([k, v]) => [k, plain(v)]).filter(([, v]) => v !== undefined)) : undefined;
    return { exif, gps };
  } catch {
    return { exif: {} };
  }
}

async function computeMeta(deps: AppDeps, f: FileRow): Promise<Meta> {
  const empty: Meta = {
    format: null, width: f.width, height: f.height, pages: null, has_alpha: null, orientation: null,
    color_space: null, icc: null, exif: {}, blurhash: null, dominant_color: null,
  };
  // Images sharp reads (SVG too): a BMP's analysis failed with a warning at every upload.
  if (!(isDerivable(f.contentType) || f.contentType === 'image/svg+xml') || f.size > MAX_ANALYSE_BYTES) return empty;
  const read = await deps.storage.read(f.storageKey, MAX_ANALYSE_BYTES);
  if (!read) throw notFound('File');
  const bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
  try {
    const img = sharp(bytes, { limitInputPixels: deps.config.maxInputPixels });
    const m = await img.metadata();
    const { exif, gps } = selectExif(m.exif);
    const pixels = await readableImage(bytes, { maxPixels: deps.config.maxInputPixels, timeoutMs: deps.config.transformTimeoutMs, sha256: f.sha256 });
    const small = await sharp(pixels, { limitInputPixels: deps.config.maxInputPixels }).rotate().resize(32, 32, { fit: 'inside' })
      .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return {
      format: m.format ?? null,
      // Displayed size, as on the file object: after the EXIF orientation.
      width: m.autoOrient?.width ?? m.width ?? f.width,
      height: m.autoOrient?.height ?? m.height ?? f.height,
      pages: m.pages ?? 1,
      has_alpha: m.hasAlpha ?? null,
      orientation: m.orientation ?? null,
      color_space: m.space ?? null,
      icc: m.icc ? 'embedded' : null,
      exif,
      ...(gps ? { gps } : {}),
      blurhash: encode(new Uint8ClampedArray(small.data), small.info.width, small.info.height, 4, 3),
      dominant_color: dominantColor(small.data, small.info.channels),
    };
  } catch (err) {
    // The decoder busy (an HEIC): the job that asked is retried, and nothing is stored for good.
    if (err instanceof AppError && err.code === 'OVERLOADED') throw err;
    deps.log.warn({ err, file_id: f.id }, 'metadata extraction failed');
    return empty;
  }
}

/**
 * The cached metadata of a file, computed and stored on `files.meta` when missing. The upload's
 * `derive` job calls this so the file object carries its blurhash soon after upload.
 */
export async function ensureFileMetadata(deps: AppDeps, f: FileRow): Promise<Meta> {
  const cached = f.meta as Meta | null;
  if (cached) return cached;
  const meta = await computeMeta(deps, f);
  // The row's size follows the decoded one: a row written before sizes were the displayed ones is put right here.
  const size = f.contentType.startsWith('image/') && meta.width !== null && meta.height !== null ? { width: meta.width, height: meta.height } : {};
  await deps.db.update(files).set({ meta, ...size }).where(eq(files.id, f.id));
  return meta;
}

/** The metadata of a file, computed on first request and cached. GPS appears only for the owner. */
export async function getFileMetadata(deps: AppDeps, f: FileRow, isOwner: boolean): Promise<typeof FileMetadata.static> {
  const meta = await ensureFileMetadata(deps, f);
  const { gps, ...rest } = meta;
  return { ...rest, exif: { ...meta.exif, ...(isOwner && gps ? { GPSInfo: gps } : {}) } };
}
