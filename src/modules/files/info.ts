/**
 * `GET /api/files/:id/info` (#24): what a client needs to lay an image out before fetching it —
 * displayed size (after EXIF orientation), format, orientation, alpha, animation, and the
 * dominant colours (a small palette with each colour's share, plus a blurhash when the upload
 * computed one).
 *
 * The palette comes from one shrink-on-load decode to at most 64×64: colours are grouped in a
 * 4-bit-per-channel histogram, and the largest groups' mean colours are reported. It is kept
 * in memory by the file's SHA-256 (content never changes under a digest).
 */
import { Elysia, t } from 'elysia';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import type { AppDeps } from '../../deps';
import { AppError, errorResponses, notFound, unprocessableImage } from '../../errors';
import { authGuard } from '../auth/guard';
import { getOwnFileOrThrow } from './service';
import type { FileRow } from './table';
import { readableImage } from '../transform/heic';

/** Larger originals are not read for a palette (sizes come from the row then). */
const MAX_READ_BYTES = 64 * 1024 * 1024;
const PALETTE_SIZE = 5;

export const FileInfo = t.Object({
  id: t.String(),
  content_type: t.String(),
  format: t.Nullable(t.String({ description: 'Decoder format (`jpeg`, `png`, `webp`, …); null for non-images.' })),
  width: t.Nullable(t.Integer({ description: 'Displayed width: after EXIF orientation, as `/t` renders it.' })),
  height: t.Nullable(t.Integer({ description: 'Displayed height: after EXIF orientation.' })),
  aspect_ratio: t.Nullable(t.Number({ description: 'width / height.' })),
  orientation: t.Nullable(t.Integer({ minimum: 1, maximum: 8, description: 'EXIF orientation of the original (1–8); width/height already account for it.' })),
  has_alpha: t.Nullable(t.Boolean()),
  animated: t.Boolean(),
  pages: t.Integer({ description: 'Frames (1 for a still image).' }),
  size: t.Integer({ description: 'Bytes of the original.' }),
  dominant_color: t.Nullable(t.String({ description: 'The most common colour, `#rrggbb`.', examples: ['#3a6ea5'] })),
  palette: t.Array(t.Object({
    color: t.String({ examples: ['#3a6ea5'] }),
    share: t.Number({ minimum: 0, maximum: 1, description: 'Share of the pixels in this colour group.' }),
  }), { description: `Up to ${PALETTE_SIZE} dominant colours, most common first.` }),
  blurhash: t.Nullable(t.String({ description: 'Computed after upload (null until then, or for non-images).' })),
}, { title: 'FileInfo' });

type Info = typeof FileInfo.static;
type Analysed = Omit<Info, 'id' | 'content_type' | 'size' | 'blurhash'>;

const hex = (r: number, g: number, b: number) => `#${[r, g, b].map((n) => Math.round(n).toString(16).padStart(2, '0')).join('')}`;

/** Palette of raw RGBA pixels: 4-bit histogram groups, transparent pixels ignored. */
export function paletteOf(data: Buffer, channels: number, size = PALETTE_SIZE): { color: string; share: number }[] {
  const groups = new Map<number, { n: number; r: number; g: number; b: number }>();
  let counted = 0;
  for (let i = 0; i + channels <= data.length; i += channels) {
    if (channels === 4 && data[i + 3]! < 128) continue;
    const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    const e = groups.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
    e.n++; e.r += r; e.g += g; e.b += b;
    groups.set(key, e);
    counted++;
  }
  return [...groups.values()].sort((a, b) => b.n - a.n).slice(0, size)
    .map((e) => ({ color: hex(e.r / e.n, e.g / e.n, e.b / e.n), share: Math.round((e.n / counted) * 1000) / 1000 }));
}

export function fileInfoRoutes(deps: AppDeps) {
  // Answers by SHA-256, failures too: an undecodable original is not read and decoded again.
  const analysed = new LRUCache<string, Analysed | AppError>({ max: 10_000 });

  async function analyse(f: FileRow): Promise<Analysed> {
    const fromRow: Analysed = {
      format: null, width: f.width, height: f.height, aspect_ratio: f.width && f.height ? f.width / f.height : null,
      orientation: null, has_alpha: null, animated: false, pages: 1, dominant_color: null, palette: [],
    };
    const raster = f.contentType.startsWith('image/') && f.contentType !== 'image/svg+xml';
    if (!raster || f.size > MAX_READ_BYTES) return fromRow;
    const kept = analysed.get(f.sha256);
    if (kept instanceof AppError) throw kept;
    if (kept) return kept;
    // Under the transform pool: bounded concurrency (each read holds up to MAX_READ_BYTES), its
    // timeout, and one analysis for concurrent calls on the same content.
    return deps.delivery.pool.run(`info:${f.sha256}`, () => decode(f));
  }

  async function decode(f: FileRow): Promise<Analysed> {
    const read = await deps.storage.read(f.storageKey, MAX_READ_BYTES);
    if (!read) throw notFound('File');
    const bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    const limit = { limitInputPixels: deps.config.maxInputPixels };
    try {
      const m = await sharp(bytes, limit).metadata();
      const pages = m.pages ?? 1;
      const frameHeight = m.pageHeight ?? m.height ?? 0;
      const turned = (m.orientation ?? 1) >= 5;
      const width = turned ? frameHeight : (m.width ?? 0);
      const height = turned ? (m.width ?? 0) : frameHeight;
      const pixels = await readableImage(bytes, { maxPixels: deps.config.maxInputPixels, timeoutMs: deps.config.transformTimeoutMs, sha256: f.sha256 });
      const small = await sharp(pixels, limit).autoOrient().resize(64, 64, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const palette = paletteOf(small.data, small.info.channels);
      const out: Analysed = {
        format: m.format ?? null, width, height, aspect_ratio: height ? Math.round((width / height) * 10000) / 10000 : null,
        orientation: m.orientation ?? null, has_alpha: m.hasAlpha ?? null, animated: pages > 1, pages,
        dominant_color: palette[0]?.color ?? null, palette,
      };
      analysed.set(f.sha256, out);
      return out;
    } catch (err) {
      if (err instanceof AppError && err.code === 'OVERLOADED') throw err; // the HEIC decoder busy: not the file's verdict
      const refused = unprocessableImage((err as Error).message.split('\n')[0] ?? 'unreadable');
      analysed.set(f.sha256, refused);
      throw refused;
    }
  }

  return new Elysia({ name: 'pictor.files.info', prefix: '/api/files', detail: { tags: ['files'] } })
    .use(authGuard(deps))
    .get('/:id/info', async ({ principal, params }): Promise<Info> => {
      const f = await getOwnFileOrThrow(deps, principal.userId, params.id);
      const meta = f.meta as { blurhash?: string | null; dominant_color?: string | null } | null;
      const info = await analyse(f);
      // The file object's colour once the derive job has computed it: one file, one dominant colour.
      return { id: f.id, content_type: f.contentType, size: f.size, ...info, dominant_color: meta?.dominant_color ?? info.dominant_color, blurhash: meta?.blurhash ?? null };
    }, {
      auth: 'files:read',
      params: t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: FileInfo, ...errorResponses(401, 403, 404, 410, 422, 503) },
      detail: {
        summary: 'Layout info of a file',
        description: 'Displayed dimensions (after EXIF orientation), format, orientation, alpha, animation and dominant colours (a small palette), '
          + 'so a client can reserve the space and paint a placeholder before fetching the image. Non-images: the stored size only.',
      },
    });
}
