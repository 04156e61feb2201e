/**
 * House rules the code base keeps (docs/DEVELOPING.md): long-lived objects are built in
 * `buildDeps` (compose.ts), never in a module-level registry keyed by the app's deps; the
 * runtime's own APIs (`Bun.*`, `Deno.*`) are called only from `src/platform/`. Test files may use
 * Bun's test helpers. (Import circles are checked by scripts/check-circles.ts.)
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dir);
const ROOT = join(SRC, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** `file:line: text` of each line matching `re`, code only (comment lines are skipped). */
function matches(files: string[], re: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => !/^\s*(\*|\/\/|\/\*)/.test(line) && re.test(line))
      .map(({ line, i }) => `${relative(SRC, file)}:${i + 1}: ${line.trim()}`),
  );
}

describe('code structure', () => {
  const files = sourceFiles(SRC);

  test('the scan sees the code base', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(matches(files.filter((f) => f.includes('/platform/')), /\bBun\./).length).toBeGreaterThan(0);
  });

  test('no module-level registry keyed by the app (built in buildDeps instead)', () => {
    expect(matches(files, /new (WeakMap|Map)<\s*(App|Core)Deps\b/)).toEqual([]);
  });

  test('Bun.* and Deno.* only under src/platform/', () => {
    const outside = files.filter((f) => !relative(SRC, f).startsWith('platform/'));
    expect(matches(outside, /\b(Bun|Deno)\.[A-Za-z]/)).toEqual([]);
  });

  test("docs/DEVELOPING.md's map names files that exist, and the functions it names are in them", () => {
    const doc = readFileSync(join(ROOT, 'docs/DEVELOPING.md'), 'utf8');
    const paths = [...new Set([...doc.matchAll(/`((?:src|test|scripts|docs|bench)\/[^`<>*]+)`/g)].map((m) => m[1]!))];
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
    // "`file` `name`" and "`file` (`name`": the name must be declared in that file.
    const named = [...doc.matchAll(/`(src\/[^`]+\.tsx?)`\s+\(?`(\w+)`/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(named.length).toBeGreaterThan(3);
    const undeclared = named.filter(([file, name]) => !new RegExp(`(function|const|let|class|interface|type)\\s+${name}\\b`).test(readFileSync(join(ROOT, file), 'utf8')));
    expect(undeclared).toEqual([]);
  });
});
