import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { loadSecrets } from './secrets';

describe('loadSecrets', () => {
  const dirs: string[] = [];
  const freshDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'pictor-secrets-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('generates once into DATA_DIR/secrets.json (0600) and reuses it', async () => {
    const config = loadConfig({ DATA_DIR: await freshDir() });
    const first = await loadSecrets(config);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(first.signingSecrets).toHaveLength(1);
    expect(await loadSecrets(config)).toEqual(first);
    const file = join(config.dataDir, 'secrets.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).jwt_secret).toBe(first.jwtSecret);
  });

  test('processes racing on an empty directory all end up with the same secrets', async () => {
    const config = loadConfig({ DATA_DIR: await freshDir() });
    const results = await Promise.all(Array.from({ length: 8 }, () => loadSecrets(config)));
    for (const r of results) expect(r).toEqual(results[0]!);
  });

  test('environment values win, and only the missing one is generated', async () => {
    const dir = await freshDir();
    const [jwt, a, b] = ['from-env-jwt', 'a', 'b'].map((s) => s.padEnd(32, '-0123456789'));
    const both = await loadSecrets(loadConfig({ DATA_DIR: dir, JWT_SECRET: jwt!, SIGNING_SECRETS: `${a},${b}` }));
    expect(both).toEqual({ jwtSecret: jwt!, signingSecrets: [a!, b!] });
    const partial = await loadSecrets(loadConfig({ DATA_DIR: dir, JWT_SECRET: jwt! }));
    expect(partial.jwtSecret).toBe(jwt!);
    expect(partial.signingSecrets[0]).toMatch(/^[A-Za-z0-9]{48}$/);
  });
});
