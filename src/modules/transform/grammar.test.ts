/**
 * The transformation grammar is documented where users read it, and agrees with the parser:
 * the served reference (`/openapi.json` `info.description`, rendered at `/docs`) is built from
 * the parser's own table under this server's limits, and docs/TRANSFORMS.md lists exactly the
 * parser's keys.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { MEANINGS } from './grammar';
import { parameterGrammar } from './parse';

const KEYS = parameterGrammar({ maxDimension: 8192, maxOutputPixels: 40_000_000 }).map((p) => p.key);

test('every parser key has a meaning, and every meaning a parser key', () => {
  expect(Object.keys(MEANINGS).sort()).toEqual([...KEYS].sort());
});

test('docs/TRANSFORMS.md documents exactly the keys the parser knows', () => {
  const doc = readFileSync(resolve(import.meta.dir, '../../../docs/TRANSFORMS.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| key |'), doc.indexOf('\n\n', doc.indexOf('| key |')));
  // The first cell of each row: one key or several (`| \`w\`, \`h\` |`).
  const documented = [...table.matchAll(/^\| ([^|]+) \|/gm)].slice(1).flatMap((m) => [...m[1]!.matchAll(/`([a-z]+)`/g)].map((k) => k[1]));
  expect(documented.sort()).toEqual([...KEYS].sort());
});

describe('the served reference carries the grammar', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp({ env: { MAX_DIMENSION: '4000', PRESETS: '{"hero":"w_1600,c_limit"}' } });
  }, 60_000);
  afterAll(() => h?.close());

  test('/openapi.json info.description has a row per key with this server\'s limits, and its presets', async () => {
    const spec = (await (await h.request('/openapi.json')).json()) as { info: { description: string } };
    const text = spec.info.description;
    expect(text).toContain('## Transformations');
    for (const { key, allowed } of parameterGrammar({ maxDimension: 4000, maxOutputPixels: 40_000_000 })) {
      expect(text).toContain(`| \`${key}\` | ${allowed.replace(/\|/g, '\\|')} |`);
    }
    expect(text).toContain('| `w` | an integer from 1 to 4000, or auto'); // MAX_DIMENSION of this server, not the default
    expect(text).toContain('| `t_hero` | `w_1600,c_limit` | no |');
    expect(text).toContain('| `t_thumb` | `w_200,h_200,c_fill,g_auto,f_auto` | yes |');
  });
});
