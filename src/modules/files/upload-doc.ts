/**
 * The OpenAPI `requestBody` of the upload routes (`POST /api/files`, `POST /api/uploads/{token}`).
 * They stream their body themselves (no body schema for Elysia to validate), so the document is
 * built from the lists the multipart reader enforces (`UPLOAD_FILE_FIELDS`, `UPLOAD_TEXT_FIELDS`)
 * and the descriptions of `UploadQuery`, the same attributes as query parameters.
 */
import { MAX_FILES_PER_REQUEST, UPLOAD_FILE_FIELDS, UPLOAD_TEXT_FIELDS } from './upload';
import { UploadQuery } from './model';

const filePart = { type: 'string', format: 'binary' } as const;

function textField(name: (typeof UPLOAD_TEXT_FIELDS)[number]) {
  const fromQuery = (UploadQuery.properties as Record<string, { description?: string }>)[name];
  const description = name === 'name' ? 'New name of the n-th file part (send one per file part, or none).' : fromQuery?.description;
  // No examples: /docs "Try it" would send them as filled-in form fields.
  return { type: 'string' as const, maxLength: 8192, ...(description ? { description } : {}) };
}

/** Multipart form: file parts (`file` or `image`, at most `maxFiles`) and the text fields. */
const multipartSchema = (maxFiles: number) => ({
  type: 'object',
  properties: {
    // One file per part; the part may repeat (up to `maxFiles` file parts in all).
    ...Object.fromEntries(UPLOAD_FILE_FIELDS.map((f) => [f, {
      ...filePart,
      description: maxFiles === 1 ? 'The file (one file part per request).' : `A file; \`file\` and \`image\` parts may repeat, ${maxFiles} in all.`,
    }])),
    ...Object.fromEntries(UPLOAD_TEXT_FIELDS.map((f) => [f, textField(f)])),
  },
  additionalProperties: false,
} as const);

/** The raw body: the file's bytes, its type in `Content-Type` (sniffed and checked) and its name in `X-File-Name`. */
const rawBody = { schema: { ...filePart, description: 'The file\'s bytes; attributes go in the query.' } };

const uploadRequestBody = (maxFiles: number) => ({
  required: true,
  description: maxFiles === 1 ? 'Multipart form (one file) or the raw bytes of the file.' : 'Multipart form (one or more files) or the raw bytes of one file.',
  content: {
    'multipart/form-data': { schema: multipartSchema(maxFiles) },
    'application/octet-stream': rawBody,
    'image/*': rawBody,
  },
});

export const UPLOAD_REQUEST_BODY = uploadRequestBody(MAX_FILES_PER_REQUEST);
/** A presigned upload URL takes one file (a second file part is a 400). */
export const PRESIGNED_UPLOAD_REQUEST_BODY = uploadRequestBody(1);
