/**
 * The embedded database's template: a PGlite data directory right after initdb, kept per PGlite
 * version in `node_modules/.cache/pictor/`. A fresh `DATA_DIR` copies it instead of running
 * initdb in WASM, the bulk of a first start (docs/TUNING.md, "Embedded PGlite"). It holds nothing but the empty cluster PGlite's initdb
 * makes (no migrations, no data): migrations run on the copy as on any start. `npm install`
 * (prepare) and `npm test` build it (`scripts/pglite-template.ts`); without it the first start
 * runs initdb as before.
 */
import { PGlite } from '@electric-sql/pglite';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function pgliteVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where the template of the installed PGlite lives. */
export const pgliteTemplateDir = (): string => join(ROOT, 'node_modules/.cache/pictor', `pglite-${pgliteVersion()}`);

const isCluster = (dir: string) => existsSync(join(dir, 'PG_VERSION'));

/** Builds the template unless it exists; true when it built one. Built aside and renamed into place, so a reader never sees half of it. */
export async function buildPgliteTemplate(dir = pgliteTemplateDir()): Promise<boolean> {
  if (isCluster(dir)) return false;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  const db = await PGlite.create(tmp);
  await db.close();
  // Readable by any user: an image builds it as root and runs the server as another user.
  await readableByAll(tmp);
  try {
    await rename(tmp, dir);
  } catch (err) {
    // Another install built it at the same time: theirs is as good.
    await rm(tmp, { recursive: true, force: true });
    if (!isCluster(dir)) throw err;
  }
  return true;
}

async function readableByAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await readableByAll(path);
    else await chmod(path, 0o644);
  }
}

/**
 * Fills a new PGlite directory from the template; false (and nothing done) when there is no
 * template, `target` already holds something, or the copy fails (the caller then runs initdb).
 */
export async function copyPgliteTemplate(template: string, target: string): Promise<boolean> {
  if (!isCluster(template)) return false;
  if (existsSync(target) && readdirSync(target).length > 0) return false;
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    await cp(template, tmp, { recursive: true });
  } catch {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    return false;
  }
  // Onto a missing or empty directory, rename is atomic: a crash leaves the target empty or whole.
  await rm(target, { recursive: true, force: true });
  await rename(tmp, target);
  return true;
}
