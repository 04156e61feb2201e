/**
 * A client generated from the live /openapi.json drives a real server (issue #19): types by
 * openapi-typescript, calls by openapi-fetch, a test-authored program (client-app/program.ts)
 * that must type-check (tsc, strict) against those types and then runs register/login, a scoped
 * key, raw and multipart uploads, a cursor-paginated list, a signed URL, /t bytes and usage.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';

const ROOT = resolve(import.meta.dir, '../..');
const BUN = process.execPath;

let server: RunningServer;
let dir: string;
beforeAll(async () => {
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'pictor-client-'));
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

test('a client generated with openapi-typescript + openapi-fetch type-checks and drives the server', async () => {
  const gen = run(BUN, [join(ROOT, 'test/openapi/generate-types.ts'), `${server.url}/openapi.json`, join(dir, 'schema.d.ts')]);
  expect(gen.out).toBe('');
  expect(gen.status).toBe(0);

  await copyFile(join(ROOT, 'test/openapi/client-app/program.ts'), join(dir, 'program.ts'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2023', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: ['bun'],
      strict: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: true,
    },
    files: ['program.ts', 'schema.d.ts'],
  }));
  const tsc = run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json']);
  expect(tsc.out).toBe('');
  expect(tsc.status).toBe(0);

  await quadrants(40, 30).png().toFile(join(dir, 'a.png'));
  await quadrants(30, 20).png().toFile(join(dir, 'b.png'));
  const prog = run(BUN, [join(dir, 'program.ts'), server.url, dir]);
  expect(prog.status, prog.out).toBe(0);
  const result = JSON.parse(prog.out.trim().split('\n').at(-1)!) as {
    registered: string; key_scopes: string[];
    raw: { id: string; name: string; is_public: boolean }; multipart: { id: string; name: string; is_public: boolean };
    pages: string[][]; count: number;
    signed: { url: string; status: number; type: string }; derivative: { status: number; type: string; size: number };
    usage: { files_count: number; storage_bytes: number };
  };
  expect(result.registered).toMatch(/^client-.*@example\.com$/);
  expect(result.key_scopes.sort()).toEqual(['account:read', 'files:read', 'files:write', 'transform:sign']);
  expect(result.raw).toMatchObject({ name: 'raw.png', is_public: true });
  expect(result.multipart).toMatchObject({ name: 'form.png', is_public: false });
  expect(result.count).toBe(2);
  // Two pages of one file each, together both uploads.
  expect(result.pages.map((p) => p.length)).toEqual([1, 1]);
  expect(result.pages.flat().sort()).toEqual([result.raw.id, result.multipart.id].sort());
  expect(result.signed.url).toContain('/authenticated/');
  expect(result.signed).toMatchObject({ status: 200, type: 'image/png' });
  expect(result.derivative).toMatchObject({ status: 200, type: 'image/webp' });
  expect(result.derivative.size).toBeGreaterThan(0);
  expect(result.usage.files_count).toBe(2);
  expect(result.usage.storage_bytes).toBeGreaterThan(0);
}, 300_000);
