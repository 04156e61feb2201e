/**
 * The completeness check of `stageFile`: a storage driver that reports a different size than
 * the inspector counted (a driver that dropped or invented bytes) must not produce a file.
 * The real fs driver stores the bytes; only its report is altered, so the object it wrote is
 * really there to be cleaned up.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { bootstrapAdmin } from '../admin/bootstrap';
import { users } from '../users/table';
import { files } from './table';

let h: TestApp;
let key: string;
beforeAll(async () => {
  h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' } });
  key = (await bootstrapAdmin(h.deps))!.apiKey;
});
afterAll(() => h.close());

test('a driver that reports a short write: 500 envelope, no row, counters unchanged, no object left', async () => {
  const storage = h.deps.storage;
  const put = storage.put.bind(storage);
  storage.put = async (k, body, opts) => {
    const stored = await put(k, body, opts);
    return { ...stored, size: stored.size - 1 };
  };
  try {
    const res = await h.request('/api/files', {
      method: 'POST', body: 'hello, short write', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain', 'x-file-name': 'a.txt' },
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string; request_id?: string };
    expect(body.error).toBe('INTERNAL_ERROR');
  } finally {
    storage.put = put;
  }
  expect(await h.deps.db.select().from(files)).toHaveLength(0);
  const [u] = await h.deps.db.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users);
  expect(u).toEqual({ storageBytes: 0, filesCount: 0 });
  // Empty account directories may remain; no object and no temp file.
  const root = join(h.dataDir, 'files');
  const left: string[] = [];
  for (const p of await readdir(root, { recursive: true })) if ((await stat(join(root, p))).isFile()) left.push(p);
  expect(left).toEqual([]);
});
