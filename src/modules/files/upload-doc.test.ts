/** The upload routes' documented bodies match what they take: a presigned URL one file, `POST /api/files` up to 20. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp();
}, 60_000);
afterAll(() => h?.close());

type Doc = { paths: Record<string, { post?: { requestBody?: { description?: string; content: Record<string, { schema: { properties?: Record<string, { description?: string }> } }> } } }> };

test('a presigned upload is documented as one file (it said "20 in all" and refused a second part)', async () => {
  const doc = (await (await h.request('/openapi.json')).json()) as Doc;
  const fileDoc = (path: string) => doc.paths[path]?.post?.requestBody?.content['multipart/form-data']?.schema.properties?.file?.description;
  expect(fileDoc('/api/uploads/{token}')).toBe('The file (one file part per request).');
  expect(fileDoc('/api/files')).toContain('20 in all');
});
