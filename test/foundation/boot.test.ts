/**
 * The foundation end to end: the real server process on embedded defaults, its config
 * failures, its OpenAPI document, and graceful shutdown.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server';

const ROOT = resolve(import.meta.dir, '../..');

describe('server on embedded defaults', () => {
  let server: RunningServer;
  // How long start-up takes is measured by bench/startup.ts, not asserted here (a loaded machine is slow).
  beforeAll(async () => {
    server = await startServer();
  }, 120_000);
  afterAll(() => server.close());

  test('answers /health and logs the bootstrap credentials once', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string; uptime_s: number };
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(server.bootstrap?.email).toBe('admin@localhost');
    expect(server.bootstrap?.api_key).toMatch(/^pk_[A-Za-z0-9]{32,}$/);
    expect(server.bootstrap?.initial_password.length).toBeGreaterThanOrEqual(16);
  });

  test('/health/ready reports each dependency with its latency', async () => {
    const res = await fetch(`${server.url}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string; latency_ms: number }> };
    expect(body.status).toBe('ok');
    expect(body.checks.database!.status).toBe('ok');
    expect(body.checks.storage!.status).toBe('ok');
    expect(body.checks.redis!.status).toBe('disabled');
    expect(typeof body.checks.database!.latency_ms).toBe('number');
  });

  test('/openapi.json is a valid OpenAPI 3 document with auth schemes and error schemas', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const spec = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const result = await new Validator().validate(spec as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/health/ready', '/api/reference/allowed-content-types']));
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['apiKeyHeader', 'bearerApiKey', 'bearerJwt', 'cookie', 'csrfHeader']);
    // Every operation is tagged and summarised; every authenticated one documents its errors.
    const declaredTags = (spec as unknown as { tags: { name: string }[] }).tags.map((t) => t.name);
    type Op = { tags?: string[]; summary?: string; security?: unknown[]; responses: Record<string, unknown> };
    for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, Op>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.tags?.length, where).toBeGreaterThan(0);
        for (const tag of op.tags ?? []) expect(declaredTags, where).toContain(tag);
        expect(op.summary, where).toBeTruthy();
        if (op.security) expect(Object.keys(op.responses).some((c) => c.startsWith('4')), where).toBe(true);
      }
    }
  });

  test('SIGTERM exits 0, and a restart on the same data keeps the admin (no second bootstrap)', async () => {
    const first = await startServer();
    expect(first.bootstrap).toBeDefined();
    expect(await first.stop('SIGTERM')).toBe(0);
    const second = await startServer({ dataDir: first.dataDir });
    try {
      expect(second.bootstrap).toBeUndefined();
      expect((await fetch(`${second.url}/health`)).status).toBe(200);
    } finally {
      await second.close();
      await first.close();
    }
  }, 240_000); // two start-ups, each slow on a loaded machine
});

describe('invalid configuration stops the server', () => {
  test.each([
    ['PORT', 'abc', 'PORT must be an integer from 0 to 65535; got "abc"'],
    ['STORAGE_DRIVER', 'ftp', 'STORAGE_DRIVER must be one of `fs`, `s3`'],
    ['RATE_LIMIT_LOGIN', 'lots', 'RATE_LIMIT_LOGIN must be a limit'],
  ])('%s=%s exits non-zero naming the variable', (name, value, message) => {
    const run = spawnSync(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, [name]: value, DATA_DIR: '/tmp/pictor-never-created' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
  });
});
