/**
 * The e2e response checker (helpers/openapi.ts) refuses what the document does not promise:
 * an unlisted status, an undeclared content type, a JSON body off its schema. Pure logic over a
 * small hand-made document.
 */
import { expect, test } from 'bun:test';
import { ResponseChecker, type OpenApiDocument } from '../helpers/openapi';

const envelope = { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } };
const doc: OpenApiDocument = {
  openapi: '3.1.0',
  paths: {
    '/api/files/{id}': {
      get: {
        responses: {
          '200': { content: { 'application/json': { schema: { type: 'object', required: ['id', 'size'], properties: { id: { type: 'string' }, size: { type: 'integer' } } } } } },
          '404': { content: { 'application/json': { schema: envelope } } },
        },
      },
    },
    '/api/files/bulk-delete': { post: { responses: { '200': { content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/i/{id}': { get: { responses: { '200': { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } }, '304': {} } } },
    '/t/{x}/{file}': { get: { responses: { '200': { content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } } } } },
  },
};
const c = new ResponseChecker(doc);
const json = 'application/json; charset=utf-8';
const base = 'http://127.0.0.1:1';

test('a conforming answer passes; HEAD is checked against the GET operation', () => {
  expect(c.check('GET', `${base}/api/files/abc`, 200, json, '{"id":"abc","size":3}')).toEqual([]);
  expect(c.check('GET', `${base}/api/files/abc`, 404, json, '{"error":"NOT_FOUND","message":"File not found."}')).toEqual([]);
  expect(c.check('GET', `${base}/i/abc`, 200, 'video/mp4', 'bytes')).toEqual([]);
  expect(c.check('HEAD', `${base}/i/abc`, 304, null, '')).toEqual([]);
  expect(c.check('GET', `${base}/t/w_10/a.png`, 200, 'image/webp', 'RIFF')).toEqual([]);
});

test('a literal path segment is matched before a parameter', () => {
  expect(c.operation('POST', '/api/files/bulk-delete')?.template).toBe('/api/files/bulk-delete');
  expect(c.operation('GET', '/api/files/bulk-delete')?.template).toBe('/api/files/{id}');
});

test('an unlisted status, a wrong content type or a body off its schema is a problem', () => {
  expect(c.check('GET', `${base}/api/files/abc`, 410, json, '{"error":"GONE","message":"x"}')[0]).toContain('status 410 is not listed');
  expect(c.check('GET', `${base}/t/w_10/a.png`, 200, 'application/json', '{}')[0]).toContain('content type application/json is not among image/*');
  expect(c.check('GET', `${base}/api/files/abc`, 200, json, '{"id":"abc","size":"3"}')[0]).toContain('does not match the schema');
  expect(c.check('GET', `${base}/api/files/abc`, 200, 'text/plain', 'hello')[0]).toContain('content type text/plain');
  expect(c.check('GET', `${base}/i/abc`, 304, 'text/plain', 'body')[0]).toContain('declares no body');
});
