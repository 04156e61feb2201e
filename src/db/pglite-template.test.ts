/**
 * The embedded database's template (pglite-template.ts): a new PGlite directory starts as a copy
 * of it and then migrates like any other, with the same tables as one made by initdb; a
 * directory that already holds a database is never overwritten; without a template, initdb runs.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from './client';
import { buildPgliteTemplate, copyPgliteTemplate } from './pglite-template';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'pictor-pglite-template-'));
  dirs.push(d);
  return d;
};

async function tablesOf(database: Database): Promise<string[]> {
  const res = await database.db.execute<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`);
  return (Array.isArray(res) ? res : (res as { rows: { table_name: string }[] }).rows).map((r) => r.table_name);
}

describe('PGlite template', () => {
  test('a new directory is a copy of the template, migrated; an existing one is left alone; without a template initdb runs', async () => {
    const root = await tempDir();
    const template = join(root, 'template');
    expect(await buildPgliteTemplate(template)).toBe(true);
    expect(await buildPgliteTemplate(template)).toBe(false); // already there
    // A marker only the template has: its presence in the new directory shows it was copied.
    await writeFile(join(template, 'pictor-template-marker'), 'x');

    const fromTemplate = join(root, 'a');
    const a = await openDatabase({ pgliteDir: fromTemplate, pgliteTemplate: template });
    const tablesA = await tablesOf(a);
    await a.db.execute(sql`insert into users (email, password_hash) values ('t@example.com', 'x')`);
    await a.close();
    expect(existsSync(join(fromTemplate, 'pictor-template-marker'))).toBe(true);
    expect(tablesA).toEqual(expect.arrayContaining(['users', 'files', 'jobs']));
    // The template itself is untouched by the database made from it.
    expect(existsSync(join(template, 'postmaster.pid'))).toBe(false);

    // Reopened with the template still offered: the data is kept, nothing is copied over it.
    expect(await copyPgliteTemplate(template, fromTemplate)).toBe(false);
    const again = await openDatabase({ pgliteDir: fromTemplate, pgliteTemplate: template });
    const res = await again.db.execute(sql`select count(*)::int as n from users where email = 't@example.com'`);
    expect(((Array.isArray(res) ? res : (res as { rows: { n: number }[] }).rows)[0] as { n: number }).n).toBe(1);
    await again.close();

    // Without a template (missing directory): initdb, the same tables.
    const plain = join(root, 'b');
    const b = await openDatabase({ pgliteDir: plain, pgliteTemplate: join(root, 'no-such-template') });
    expect(await tablesOf(b)).toEqual(tablesA);
    await b.close();
    expect(existsSync(join(plain, 'pictor-template-marker'))).toBe(false);

    // A template that cannot be copied (here: a FIFO in it) leaves nothing behind and falls back to initdb.
    execFileSync('mkfifo', [join(template, 'pictor-fifo')]);
    const unlucky = join(root, 'c');
    expect(await copyPgliteTemplate(template, unlucky)).toBe(false);
    expect(existsSync(unlucky)).toBe(false);
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const c = await openDatabase({ pgliteDir: unlucky, pgliteTemplate: template });
    expect(await tablesOf(c)).toEqual(tablesA);
    await c.close();
    expect(existsSync(join(unlucky, 'pictor-template-marker'))).toBe(false);
  }, 120_000);
});
