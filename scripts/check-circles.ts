/**
 * Fails (exit 1, naming each circle) when the modules under a directory (default `src/`) import
 * each other in a circle. `scripts/test.sh` runs it before the test suite.
 *
 * Only runtime imports count: static imports, re-exports and dynamic `import()`. Type-only imports
 * (`import type`, and imports used only as types, which TypeScript elides because
 * `verbatimModuleSyntax` is off) are erased at compile time and cannot cause an
 * initialisation-order bug; counting them would flag `src/deps.ts`, which holds only the AppDeps
 * types, names types of many modules and is imported as a type by all of them.
 *
 * dependency-cruiser finds the circles. It cannot parse TypeScript here (its TypeScript support
 * needs the compiler's JS API, which TypeScript 7 no longer ships), so each file is first
 * transpiled to JavaScript with Bun's transpiler, which drops exactly the type-only imports, into
 * a temporary tree with the same layout; dependency-cruiser then cruises that tree.
 *
 * Usage: bun scripts/check-circles.ts [dir]
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';

/** Source files of `root`, relative to it. Test files are left out: nothing imports them. */
function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [relative(root, path)] : [];
  });
}

/** Each circle found among the modules under `dir`, as the list of its files (relative to `dir`). */
export async function findCircles(dir: string): Promise<string[][]> {
  const root = resolve(dir);
  const out = mkdtempSync(join(tmpdir(), 'pictor-circles-'));
  try {
    for (const file of sourceFiles(root)) {
      const loader = file.endsWith('.tsx') ? 'tsx' : 'ts';
      const js = new Bun.Transpiler({ loader }).transformSync(readFileSync(join(root, file), 'utf8'));
      const target = join(out, file.replace(/\.tsx?$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, js);
    }
    const { output } = await cruise([out], {
      baseDir: out,
      validate: true,
      ruleSet: { forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }] },
      doNotFollow: { path: 'node_modules' },
    });
    const seen = new Set<string>();
    const circles: string[][] = [];
    for (const violation of (output as ICruiseResult).summary.violations) {
      const cycle = [violation.from, ...(violation.cycle ?? []).map((step) => step.name)].map((name) =>
        relative(out, resolve(out, name)).replace(/\.js$/, '.ts'),
      );
      // dependency-cruiser reports a circle once from each member; report it once.
      const key = [...new Set(cycle)].sort().join('\n');
      if (seen.has(key)) continue;
      seen.add(key);
      circles.push(cycle);
    }
    return circles;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const dir = process.argv[2] ?? resolve(import.meta.dir, '../src');
  const circles = await findCircles(dir);
  for (const cycle of circles) console.error(`import circle: ${cycle.join(' → ')}`);
  if (circles.length > 0) {
    console.error(`${circles.length} import circle(s) under ${relative(process.cwd(), resolve(dir)) || '.'}`);
    process.exit(1);
  }
  console.log('no import circles');
}
