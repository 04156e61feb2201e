/** The import-circle check (scripts/check-circles.ts) over small trees written for each case. */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findCircles } from './check-circles';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'circles-test-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('check-circles', () => {
  test('two files importing each other are a circle: the script names it and exits 1', async () => {
    const dir = tree({
      'a.ts': "import { b } from './b';\nexport const a = () => b();\n",
      'b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    expect(await findCircles(dir)).toEqual([['a.ts', 'b.ts', 'a.ts']]);
    const run = Bun.spawnSync([process.execPath, join(import.meta.dir, 'check-circles.ts'), dir]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toContain('import circle: a.ts → b.ts → a.ts');
  });

  test('a longer circle through a folder and a dynamic import counts', async () => {
    const dir = tree({
      'x/one.ts': "import { two } from '../y/two';\nexport const one = () => two;\n",
      'y/two.ts': "export const two = () => import('./three');\n",
      'y/three.ts': "import { one } from '../x/one';\nexport const three = one;\n",
    });
    const circles = await findCircles(dir);
    expect(circles).toHaveLength(1);
    expect(new Set(circles[0])).toEqual(new Set(['x/one.ts', 'y/two.ts', 'y/three.ts']));
  });

  test('type-only imports do not count: they are erased at compile time', async () => {
    const dir = tree({
      'deps.ts': "import type { Service } from './service';\nexport interface Deps { service: Service }\n",
      'service.ts': "import type { Deps } from './deps';\nimport { Limits } from './limits';\n" +
        "export interface Service { run(deps: Deps): Limits }\n",
      'limits.ts': "import { Deps } from './deps';\nexport type Limits = { deps?: Deps };\n",
    });
    expect(await findCircles(dir)).toEqual([]);
    const run = Bun.spawnSync([process.execPath, join(import.meta.dir, 'check-circles.ts'), dir]);
    expect(run.exitCode).toBe(0);
  });
});
