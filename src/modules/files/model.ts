/** Request and response schemas of the files API (API.md §4). */
import { t } from 'elysia';
import { uncheckedMap } from '../../lib/unchecked-map';
import { META_RULE, TAG_RULE } from './tags';

export const FileSchema = t.Object(
  {
    id: t.String({ description: 'Random public id (12 base62 characters).', examples: ['abc123XyZ9kq'] }),
    name: t.String({ examples: ['beach.jpg'] }),
    folder: t.String({ examples: ['/holidays/2026'] }),
    content_type: t.String({ description: 'Sniffed from the bytes, never taken from the client.', examples: ['image/jpeg'] }),
    size: t.Integer({ description: 'Bytes.', examples: [482113] }),
    sha256: t.String({ description: 'Hex SHA-256 of the stored bytes (also the ETag).' }),
    width: t.Nullable(t.Integer({ examples: [1600], description: 'Displayed width in pixels (after the EXIF orientation, as `/t` renders it; a video\'s after its rotation); null when not an image or video.' })),
    height: t.Nullable(t.Integer({ examples: [1200], description: 'Displayed height in pixels (after the EXIF orientation).' })),
    duration_s: t.Optional(t.Nullable(t.Number({ description: 'Videos: length in seconds (ffprobe at upload); null for other files.', examples: [12.48] }))),
    blurhash: t.Nullable(t.String({ description: 'Images: a BlurHash of the picture, for a placeholder while the thumbnail loads. Computed by the job that follows the upload (then also by `GET /api/files/:id/metadata`): null until then, and for non-images.', examples: ['LEHV6nWB2yk8pyo0adR*.7kCMdnj'] })),
    dominant_color: t.Nullable(t.String({ description: 'Images: the dominant colour as `#rrggbb`, computed together with `blurhash`; null until then and for non-images.', examples: ['#aabbcc'] })),
    is_public: t.Boolean(),
    url: t.String({ description: 'Public original, `/i/:id.ext`.', examples: ['https://media.example.com/i/abc123XyZ9kq.jpg'] }),
    download_url: t.String({ description: '`/d/:id`, served as an attachment.' }),
    transform_url: t.String({ description: 'Template for `/t/{transformations}/:id`.' }),
    view_url: t.String({
      description: 'The embed page `/v/:id`: HTML with OpenGraph/Twitter card tags and oEmbed discovery, for sharing in chat apps. 404 while the file is private or the account turned embeds off (setting `embeds_enabled`).',
      examples: ['https://media.example.com/v/abc123XyZ9kq'],
    }),
    tags: t.Array(t.String(), { description: `The file's tags (${TAG_RULE}).`, examples: [['holiday', 'beach']] }),
    custom_metadata: t.Record(t.String(), t.String(), { description: 'Your own key/value metadata (not the image metadata of `GET /api/files/:id/metadata`).', examples: [{ camera: 'x100v' }] }),
    created_at: t.String({ format: 'date-time' }),
    expires_at: t.Nullable(t.String({ format: 'date-time' })),
  },
  { title: 'File' },
);

export const UploadedOne = t.Object({ file: FileSchema, message: t.Literal('File uploaded') });
export const UploadFailureSchema = t.Object({ name: t.String(), error: t.String(), message: t.String() });
export const UploadedMany = t.Object({
  results: t.Array(FileSchema),
  count: t.Integer(),
  errors: t.Array(UploadFailureSchema),
});

export const UploadQuery = t.Object({
  folder: t.Optional(t.String({ description: 'Target folder (created when missing).' })),
  is_public: t.Optional(t.String({ description: '`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`; anything else → 400); default: the account setting `default_is_public`.' })),
  expires_in: t.Optional(t.String({ description: 'Seconds until the file expires (0: never, overriding the account default); default: the account setting `default_expires_in`.' })),
  expires_at: t.Optional(t.String({ description: 'ISO-8601 expiry time, in the future and at most 100 years ahead (else 400).' })),
  transformations: t.Optional(t.String({
    'x-repeatable': true,
    description: 'Derivatives to render eagerly (a query parameter or a multipart field, not both): `|`-separated, and it may repeat. '
      + 'They are rendered by the queue once this server has had no upload for 250 ms, or at most `QUEUE_DEFER_MS` later. '
      + 'For a video, renditions written `<transformations>.mp4` or `.webm` (`w_640.mp4|w_320,ac_none.webm`), each a `video_render` job.',
    examples: ['w_400,f_webp|t_thumb'],
  })),
  tags: t.Optional(t.String({ 'x-repeatable': true, description: `Comma-separated tags (a query parameter or a multipart field, not both; it may repeat). ${TAG_RULE}.`, examples: ['holiday,beach'] })),
  metadata: t.Optional(t.String({ description: `Custom key/value metadata as JSON (a query parameter or a multipart field, not both): ${META_RULE}.`, examples: ['{"camera":"x100v"}'] })),
});

export const ListQuerySchema = t.Object({
  folder: t.Optional(t.String()),
  recursive: t.Optional(t.Boolean({ description: 'Include sub-folders of `folder`.' })),
  q: t.Optional(t.String({ maxLength: 255, description: 'Name contains every word of it, in any order (case-insensitive): `photo 03` finds `photo-03.jpg`. Inside a word `-` and `_` stand for any one character, as names use spaces, `-` and `_` alike: `photo-03` finds `photo 03.jpg` and `photo_03.jpg` too.' })),
  content_type: t.Optional(t.String({ description: 'Exact type or family such as `image/*` (one Pictor stores; anything else is a 400).' })),
  is_public: t.Optional(t.Boolean()),
  sha256: t.Optional(t.String({
    pattern: '^[0-9a-fA-F]{64}$',
    description: '64 hex digits (any case), the SHA-256 of the bytes as uploaded, as a file\'s `sha256` gives it; only files with exactly this content. Asks before an upload whether the account already holds the file.',
  })),
  tag: t.Optional(t.Array(t.String(), {
    description: 'Only files with every one of these tags (case-insensitive); repeat the parameter or separate with commas: `tag=beach&tag=2026` = `tag=beach,2026`.',
  })),
  meta: t.Optional(t.Array(t.String(), {
    description: 'Custom-metadata filter, may repeat (all must hold): `key:value` = that exact value, `key` = the key is set. Example: `meta=camera:x100v`.',
  })),
  sort: t.Optional(t.UnionEnum(['created_at', '-created_at', 'name', '-name', 'size', '-size'], { default: '-created_at' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: t.Optional(t.String({ maxLength: 1024 })),
});

export const FileList = t.Object({
  results: t.Array(FileSchema),
  count: t.Integer({ description: 'Files matching the filter, all pages.' }),
  next_cursor: t.Nullable(t.String()),
});

export const FilePatchSchema = t.Object({
  name: t.Optional(t.String({ minLength: 1, maxLength: 255, description: 'The new name, kept as given: one holding `/` or `\\`, beginning with a dot, holding `..` or invisible characters is refused (400), as is one with nothing left of it.' })),
  folder: t.Optional(t.String({ maxLength: 1024 })),
  is_public: t.Optional(t.Boolean()),
  tags: t.Optional(t.Array(t.String(), { description: `Replaces the file's tags (${TAG_RULE}), one tag per item; \`[]\` removes them.`, maxItems: 256 })),
  // Checked by checkMeta on the value as sent: a TypeBox record took an array (`["a","b"]` was
  // stored as {"0":"a","1":"b"}) and dropped a `__proto__` key, wiping what was there.
  custom_metadata: t.Optional(uncheckedMap({ type: 'string' }, { description: `Replaces the custom metadata (${META_RULE}); \`{}\` removes it.` })),
  expires_at: t.Optional(t.Nullable(t.String({
    format: 'date-time', description: 'In the future and at most 100 years ahead (else 400); null = never expires.',
  }))),
}, { examples: [{ name: 'beach.jpg', folder: '/holidays/2026', tags: ['holiday', 'beach'] }] });

export const BulkDeleteBody = t.Object({ ids: t.Array(t.String({ maxLength: 64 }), { minItems: 1, maxItems: 100 }) });
export const BulkDeleteResult = t.Object({
  deleted: t.Integer(),
  errors: t.Array(t.Object({ id: t.String(), error: t.String() })),
});

export const FileMetadata = t.Object({
  format: t.Nullable(t.String()),
  width: t.Nullable(t.Integer({ description: 'Displayed width (after the EXIF `orientation`).' })),
  height: t.Nullable(t.Integer({ description: 'Displayed height (after the EXIF `orientation`).' })),
  pages: t.Nullable(t.Integer()),
  has_alpha: t.Nullable(t.Boolean()),
  orientation: t.Nullable(t.Integer()),
  color_space: t.Nullable(t.String()),
  icc: t.Nullable(t.String({ description: 'ICC profile description, if any.' })),
  exif: t.Record(t.String(), t.Unknown(), { description: 'Selected EXIF; GPS only for the owner.' }),
  duration_s: t.Optional(t.Number({ description: 'Videos: length in seconds.' })),
  video: t.Optional(t.Object({
    duration_s: t.Number(),
    width: t.Integer({ description: 'Displayed width (after rotation).' }),
    height: t.Integer({ description: 'Displayed height (after rotation).' }),
    rotation: t.Integer({ description: 'Clockwise degrees a player turns the coded frames: 0, 90, 180 or 270.' }),
    fps: t.Nullable(t.Number()),
    video_codec: t.String({ examples: ['h264'] }),
    audio_codec: t.Nullable(t.String({ examples: ['aac'] })),
    bit_rate: t.Nullable(t.Integer({ description: 'Bits per second of the whole file.' })),
    container: t.String({ description: 'ffprobe format name.', examples: ['mov,mp4,m4a,3gp,3g2,mj2'] }),
  }, { description: 'Videos only: what ffprobe found at upload.' })),
  blurhash: t.Nullable(t.String()),
  dominant_color: t.Nullable(t.String({ examples: ['#aabbcc'] })),
});
