/**
 * A third-party client of Pictor, typed only by what openapi-typescript generates from the live
 * /openapi.json (`./schema`, written next to this file by test/openapi/client.test.ts) and
 * driven through openapi-fetch. It is type-checked (tsc, strict) before it runs: a document that
 * lacks a body, a parameter type or a response breaks the build here. No casts.
 *
 * `bun program.ts <base url> <dir with a.png and b.png>` prints a JSON summary of what it did.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const [baseUrl, dir] = process.argv.slice(2);
if (!baseUrl || !dir) throw new Error('usage: program.ts <base url> <dir>');

const client = createClient<paths>({ baseUrl });
const email = `client-${crypto.randomUUID()}@example.com`;
const password = 'correct horse battery staple';

function must<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

// Register, then sign in (registration may answer without a session when email is to be confirmed).
const registered = must('register', await client.POST('/api/auth/register', { body: { email, password } }));
const login = must('login', await client.POST('/api/auth/login', { body: { email, password } }));
const bearer = { Authorization: `Bearer ${login.session.access_token}` };

// A scoped API key: files and signing only.
const created = must('create key', await client.POST('/api/auth/api-keys', {
  headers: bearer,
  body: { name: 'generated client', scopes: ['files:read', 'files:write', 'transform:sign', 'account:read'] },
}));
const keyed = { 'X-API-Key': created.key };

const png = async (name: string): Promise<Blob> => new Blob([await Bun.file(`${dir}/${name}`).arrayBuffer()], { type: 'image/png' });

// Raw-body upload: the bytes as the body, the name in X-File-Name, attributes in the query.
const raw = must('raw upload', await client.POST('/api/files', {
  headers: { ...keyed, 'Content-Type': 'image/png' },
  params: { query: { is_public: 'true' }, header: { 'X-File-Name': 'raw.png' } },
  body: await png('a.png'),
  bodySerializer: (body) => body,
}));
if (!('file' in raw)) throw new Error('raw upload: expected one file');

// Multipart upload: a file part and a text field.
const multipart = must('multipart upload', await client.POST('/api/files', {
  headers: keyed,
  body: { file: await png('b.png'), name: 'form.png', is_public: 'false' },
  bodySerializer(body) {
    const form = new FormData();
    for (const [k, v] of Object.entries(body)) {
      if (v instanceof Blob) form.append(k, v, 'b.png');
      else if (typeof v === 'string') form.append(k, v);
    }
    return form;
  },
}));
if (!('file' in multipart)) throw new Error('multipart upload: expected one file');

// List one page at a time, following the cursor.
const first = must('list page 1', await client.GET('/api/files', { headers: keyed, params: { query: { limit: 1 } } }));
if (first.next_cursor === null) throw new Error('list: expected a second page');
const second = must('list page 2', await client.GET('/api/files', { headers: keyed, params: { query: { limit: 1, cursor: first.next_cursor } } }));

// A signed URL for a derivative, then the image itself; and /t of the public file, as bytes.
const signed = must('signed url', await client.POST('/api/files/{id}/signed-url', {
  headers: keyed,
  params: { path: { id: multipart.file.id } },
  body: { transformations: 'w_8,f_png', expires_in: 600 },
}));
const signedImage = await fetch(new URL(signed.url, baseUrl));
const derivative = await client.GET('/t/{transformations}/{file}', {
  params: { path: { transformations: 'w_8,f_webp', file: `${raw.file.id}.png` } },
  parseAs: 'blob',
});
const derivativeBytes = must('derivative', derivative);

const usage = must('usage', await client.GET('/api/usage', { headers: keyed }));

console.log(JSON.stringify({
  registered: registered.user.email,
  key_scopes: created.scopes,
  raw: { id: raw.file.id, name: raw.file.name, is_public: raw.file.is_public },
  multipart: { id: multipart.file.id, name: multipart.file.name, is_public: multipart.file.is_public },
  pages: [first.results.map((f) => f.id), second.results.map((f) => f.id)],
  count: first.count,
  signed: { url: signed.url, status: signedImage.status, type: signedImage.headers.get('content-type') },
  derivative: { status: derivative.response.status, type: derivativeBytes.type, size: derivativeBytes.size },
  usage: { files_count: usage.files_count, storage_bytes: usage.storage_bytes },
}));
