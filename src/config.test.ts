import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderReadme } from '../scripts/gen-config-table';
import { ConfigError, configSchema, loadConfig, mistypedSettings } from './config';
import { parseBytes, parseDurationMs, parseRateRule } from './lib/units';

/** The problems `loadConfig` reports for `env`, or 'accepted'. */
const refused = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('config', () => {
  test('defaults follow API.md §11', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.storageDriver).toBe('fs');
    expect(c.maxUploadBytes).toBe(750 * 1024 ** 2);
    expect(c.promotedMaxUploadBytes).toBe(1024 ** 3);
    expect(c.storageQuotaBytes).toBe(50 * 1024 ** 3);
    expect(c.rateLimits.login).toEqual({ max: 5, windowMs: 15 * 60_000 });
    expect(c.rateLimits.upload_bytes).toEqual({ max: 10 * 1024 ** 3, windowMs: 3_600_000 });
    expect(c.rateLimits.upload_concurrency).toEqual({ max: 8, windowMs: 0 });
    expect(c.transformConcurrency).toBeGreaterThan(0);
    expect(c.cacheDir.endsWith('/data/cache')).toBe(true);
  });

  test('values are converted from their env spelling', () => {
    const c = loadConfig({ PORT: '8080', INVITE_ONLY: 'yes', MAX_UPLOAD_BYTES: '10MB', RATE_LIMIT_PUBLIC: '20/1m', PUBLIC_URL: 'https://img.example.com/' });
    expect(c.port).toBe(8080);
    expect(c.inviteOnly).toBe(true);
    expect(c.maxUploadBytes).toBe(10_000_000);
    expect(c.rateLimits.public).toEqual({ max: 20, windowMs: 60_000 });
    expect(c.publicUrl).toBe('https://img.example.com');
  });

  test('upload fault settings: idle timeout and abandoned-upload age in ms, free-space floor as a share or a size', () => {
    expect(loadConfig({})).toMatchObject({ uploadIdleTimeoutMs: 30_000, abandonedUploadAfterMs: 86_400_000, minFreeDisk: { percent: 10 } });
    const c = loadConfig({ UPLOAD_IDLE_TIMEOUT: '5', ABANDONED_UPLOAD_AFTER: '3600', MIN_FREE_DISK: '2.5 %' });
    expect(c).toMatchObject({ uploadIdleTimeoutMs: 5000, abandonedUploadAfterMs: 3_600_000, minFreeDisk: { percent: 2.5 } });
    expect(loadConfig({ MIN_FREE_DISK: '5GiB' }).minFreeDisk).toEqual({ bytes: 5 * 1024 ** 3 });
  });

  test('PUBLIC_URL unset follows PORT; origin lists are normalised as browsers send them', () => {
    expect(loadConfig({ PORT: '8080' })).toMatchObject({ publicUrl: 'http://localhost:8080', publicUrlFromPort: true });
    expect(loadConfig({ PORT: '8080', PUBLIC_URL: 'https://img.example.com' })).toMatchObject({ publicUrl: 'https://img.example.com', publicUrlFromPort: false });
    const c = loadConfig({ CORS_API_ORIGINS: 'https://App.example.com/, http://localhost:5173', ALLOWED_REDIRECT_ORIGINS: 'https://app.example.com' });
    expect(c.corsApiOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(c.allowedRedirectOrigins).toEqual(['https://app.example.com']);
    expect(c.corsDeliveryOrigin).toBe('*');
    expect(loadConfig({}).corsApiOrigins).toEqual([]);
    expect(loadConfig({ CORS_DELIVERY_ORIGIN: 'none' }).corsDeliveryOrigin).toBeNull();
    expect(loadConfig({ CORS_DELIVERY_ORIGIN: 'https://site.example.org' }).corsDeliveryOrigin).toBe('https://site.example.org');
  });

  test.each([
    ['CORS_API_ORIGINS', 'https://app.example.com/path', /CORS_API_ORIGINS must be a comma-separated list of origins/],
    ['ALLOWED_REDIRECT_ORIGINS', 'app.example.com', /ALLOWED_REDIRECT_ORIGINS must be a comma-separated list of origins/],
    ['CORS_DELIVERY_ORIGIN', 'everyone', /CORS_DELIVERY_ORIGIN must be `\*`, `none` or one origin/],
    ['PORT', 'abc', /PORT must be an integer from 0 to 65535; got "abc"/],
    ['PORT', '70000', /PORT must be an integer/],
    ['STORAGE_DRIVER', 'ftp', /STORAGE_DRIVER must be one of `fs`, `s3`/],
    ['MAX_UPLOAD_BYTES', 'lots', /MAX_UPLOAD_BYTES must be a byte size/],
    ['RATE_LIMIT_LOGIN', '5 per minute', /RATE_LIMIT_LOGIN must be a limit/],
    ['INVITE_ONLY', 'maybe', /INVITE_ONLY must be `true` or `false`/],
    ['MIN_FREE_DISK', '150%', /MIN_FREE_DISK must be a percentage such as `10%` or a byte size/],
    ['MIN_FREE_DISK', 'plenty', /MIN_FREE_DISK must be a percentage/],
    ['UPLOAD_IDLE_TIMEOUT', '0', /UPLOAD_IDLE_TIMEOUT must be an integer from 1 to 3600/],
  ])('%s=%s is refused, naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  test('all problems are reported at once, secrets are not echoed', () => {
    try {
      loadConfig({ PORT: 'x', DATABASE_URL: 'not a url with password hunter2', WORKERS: 'two' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  test('cross-field rules: s3 needs a bucket, WORKERS > 1 needs Postgres', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET must be set/);
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(/WORKERS must be 1 without DATABASE_URL/);
    expect(loadConfig({ WORKERS: '2', DATABASE_URL: 'postgres://x@y/z' }).workers).toBe(2);
  });

  test('settings that were accepted and then ignored, dropped or misread are refused, naming the variable', () => {
    expect(refused({ RATE_LIMIT_LOGIN: '5/100ms' })).toContain('RATE_LIMIT_LOGIN must be');
    expect(refused({ RATE_LIMIT_API: '5KB/1m' })).toContain('RATE_LIMIT_API must be');
    expect(loadConfig({ RATE_LIMIT_UPLOAD_BYTES: '2GiB/1h' }).rateLimits.upload_bytes).toEqual({ max: 2 * 1024 ** 3, windowMs: 3_600_000 });
    expect(refused({ ALLOWED_TYPES: 'image/png,image/jpg' })).toContain('ALLOWED_TYPES: "image/jpg" is not a type Pictor stores (did you mean image/jpeg?)');
    expect(loadConfig({ ALLOWED_TYPES: 'image/*,video/mp4' }).allowedTypes).toEqual(['image/*', 'video/mp4']);
    expect(refused({ ALLOWED_TYPES: 'png' })).toContain('ALLOWED_TYPES');
    expect(refused({ TRUST_PROXY: 'true' })).toContain('TRUST_PROXY must be a hop count');
    expect(refused({ TRUST_PROXY: '10.0.0.0/33' })).toContain('TRUST_PROXY');
    for (const ok of ['1', 'false', '10.0.0.0/8,::1/128', '192.168.1.10']) expect(loadConfig({ TRUST_PROXY: ok }).trustProxy).toBe(ok);
    expect(refused({ MAX_UPLOAD_BYTES: '100KiB', PROMOTED_MAX_UPLOAD_BYTES: '50KiB' })).toContain('PROMOTED_MAX_UPLOAD_BYTES (50KiB) must be at least MAX_UPLOAD_BYTES');
    expect(refused({ WEBHOOK_RETRY_BASE_MS: '3600000', WEBHOOK_RETRY_MAX_MS: '1000' })).toContain('WEBHOOK_RETRY_BASE_MS must be at most WEBHOOK_RETRY_MAX_MS');
    expect(refused({ FFPROBE_PATH: '/nope/ffprobe' })).toContain('FFPROBE_PATH names no file: "/nope/ffprobe"');
    // A directory or a file that cannot be run started fine, then every video upload was a 500.
    expect(refused({ FFPROBE_PATH: '/tmp' })).toContain('FFPROBE_PATH must name a program this server can run; "/tmp" is not a file');
    const plain = join(mkdtempSync(join(tmpdir(), 'pictor-config-')), 'not-a-program');
    writeFileSync(plain, 'text', { mode: 0o644 });
    expect(refused({ FFMPEG_PATH: plain })).toContain(`FFMPEG_PATH must name a program this server can run; ${JSON.stringify(plain)} is a file without execute permission`);
    // A feature's settings while it is off, a backend's while another is used: accepted, and nothing happened.
    expect(refused({ REMOTE_ALLOW_HOSTS: 'img.example.com', REMOTE_SIGNED_ONLY: 'true' })).toContain('REMOTE_ALLOW_HOSTS, REMOTE_SIGNED_ONLY are set but REMOTE_SOURCES is off');
    expect(loadConfig({ REMOTE_SOURCES: 'true', REMOTE_ALLOW_HOSTS: 'img.example.com' }).remote.allowHosts).toEqual(['img.example.com']);
    expect(refused({ MAIL_FROM: 'X <x@example.com>' })).toContain('MAIL_FROM is set but SMTP_URL is not');
    expect(refused({ DATABASE_POOL: '50' })).toContain('DATABASE_POOL is set but DATABASE_URL is not');
    expect(refused({ PGLITE_SHARED_BUFFERS: '16MiB', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' })).toContain('PGLITE_SHARED_BUFFERS is set but DATABASE_URL is too');
    // Whole bytes: a fraction of a byte was cut to 0 (0 turns a cache off); whole fractions of a unit stay fine.
    expect(refused({ CACHE_MEMORY_BYTES: '0.0001KB' })).toContain('CACHE_MEMORY_BYTES');
    expect(loadConfig({ CACHE_MEMORY_BYTES: '1.5KiB' }).cacheMemoryBytes).toBe(1536);
    expect(loadConfig({ CACHE_MEMORY_BYTES: '1.1MB' }).cacheMemoryBytes).toBe(1_100_000);
    for (const bad of ['https://exa mple.com', 'https://:99999', 'ftp://example.com', 'https://example.com/media?x=1#y', 'https://example.com:0']) expect([bad, refused({ PUBLIC_URL: bad })]).toEqual([bad, expect.stringContaining('PUBLIC_URL must be an http(s) URL')]);
    expect(loadConfig({ PUBLIC_URL: 'HTTPS://media.example.com/' }).publicUrl).toBe('https://media.example.com');
    // As browsers send an origin: lower case, no trailing slash (the header matched no request).
    expect(loadConfig({ CORS_DELIVERY_ORIGIN: 'https://App.Example.com/' }).corsDeliveryOrigin).toBe('https://app.example.com');
  });

  test('values that could never work are refused at start, naming the variable (each started, then failed or did nothing)', () => {
    // Connection URLs their clients cannot read: a stack trace at start, or (ioredis) a socket path.
    expect(refused({ REDIS_URL: 'http://127.0.0.1:6379' })).toContain('REDIS_URL must be a redis:// or rediss:// URL such as redis://host:6379; the value given starts with http://');
    expect(refused({ REDIS_URL: 'redis://127.0.0.1:abc' })).toContain('REDIS_URL must be a redis:// or rediss:// URL');
    expect(refused({ DATABASE_URL: 'postgres://postgres@127.0.0.1:99999/test' })).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(refused({ DATABASE_URL: 'http://db/test' })).toContain('the value given starts with http://');
    expect(refused({ SMTP_URL: 'mail.example.com://x' })).toContain('SMTP_URL must be a smtp:// or smtps:// URL');
    expect(refused({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'ftp://minio:9000' })).toContain('S3_ENDPOINT must be a http:// or https:// URL');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p%40ss@db:5432/pictor', REDIS_URL: 'rediss://cache:6380/2' }).redisUrl).toBe('rediss://cache:6380/2');
    expect(loadConfig({ DATABASE_URL: 'postgres:///pictor?host=/run/postgresql' }).databaseUrl).toBe('postgres:///pictor?host=/run/postgresql');
    // S3 settings without the S3 driver: files went to local disk without a word; half a key pair was dropped.
    expect(refused({ S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'true' })).toContain('S3_BUCKET, S3_FORCE_PATH_STYLE are set but STORAGE_DRIVER is fs');
    expect(refused({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'AKIA1' })).toContain('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together');
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 's' }).s3.bucket).toBe('b');
    // The bootstrap admin could never sign in with a password.
    expect(refused({ ADMIN_EMAIL: 'not-an-email' })).toContain('ADMIN_EMAIL must be an email address');
    expect(refused({ ADMIN_PASSWORD: 'a' })).toContain('ADMIN_PASSWORD must be 8 to 1024 characters');
    expect(refused({ ADMIN_PASSWORD: 'a' })).not.toContain('"a"');
    expect(loadConfig({ ADMIN_EMAIL: 'root@intranet', ADMIN_PASSWORD: 'eight-ch' }).adminEmail).toBe('root@intranet');
    // Keys short enough to guess offline from one token or signed URL; a sender that is no address.
    expect(refused({ JWT_SECRET: 'x' })).toContain('JWT_SECRET must be at least 32 characters');
    expect(refused({ JWT_SECRET: 'x' })).not.toContain('"x"');
    expect(refused({ SIGNING_SECRETS: `${'k'.repeat(32)},short` })).toContain('SIGNING_SECRETS: secret 2 must be at least 32 characters');
    expect(refused({ MAIL_FROM: 'bogus' })).toContain('MAIL_FROM must be an address');
    for (const ok of ['Pictor <no-reply@example.com>', 'ops@example.com']) expect(loadConfig({ MAIL_FROM: ok, SMTP_URL: 'smtp://127.0.0.1:2525' }).mailFrom).toBe(ok);
    // Surrounding spaces became part of a token or path (a .env file's trailing space).
    expect(refused({ METRICS_TOKEN: 'tok ' })).toContain('METRICS_TOKEN begins or ends with a space or line break');
    expect(refused({ METRICS_TOKEN: 'tok ' })).not.toContain('tok');
    expect(refused({ CACHE_DIR: ' /var/cache/pictor' })).toContain('CACHE_DIR begins or ends');
    // Fractions of a byte read as 0 (`MIN_FREE_DISK=0.1` never degraded); a PGlite buffer it cannot allocate.
    expect(refused({ MIN_FREE_DISK: '0.1' })).toContain('MIN_FREE_DISK must be a percentage');
    expect(refused({ CACHE_MEMORY_BYTES: '0.5b' })).toContain('CACHE_MEMORY_BYTES must be a byte size');
    expect(refused({ PGLITE_SHARED_BUFFERS: '2GiB' })).toContain('PGLITE_SHARED_BUFFERS must be a byte size such as `512MiB`, `1GB` or `1048576` (whole bytes; at least 1MiB, at most 1GiB)');
    // The unit of a count of seconds is named.
    expect(refused({ UPLOAD_IDLE_TIMEOUT: '30s' })).toContain('UPLOAD_IDLE_TIMEOUT must be an integer from 1 to 3600 (seconds)');
    // Upper-case words mean what they say.
    expect(loadConfig({ STORAGE_DRIVER: 'S3', S3_BUCKET: 'b', LOG_LEVEL: 'INFO' })).toMatchObject({ storageDriver: 's3', logLevel: 'info' });
  });

  test('origins are compared as browsers send them; entries that could never match are refused', () => {
    const c = loadConfig({ CORS_API_ORIGINS: 'https://app.example.com:443,https://bücher.de,http://localhost:80', ALLOWED_REDIRECT_ORIGINS: 'HTTPS://App.Example.com:8443/' });
    expect(c.corsApiOrigins).toEqual(['https://app.example.com', 'https://xn--bcher-kva.de', 'http://localhost']);
    expect(c.allowedRedirectOrigins).toEqual(['https://app.example.com:8443']);
    for (const bad of ['https://*.example.com', 'https://user@a.com']) {
      expect(() => loadConfig({ CORS_API_ORIGINS: bad })).toThrow(/CORS_API_ORIGINS must be a comma-separated list of origins .*no path, credentials or wildcard/);
      expect(() => loadConfig({ ALLOWED_REDIRECT_ORIGINS: bad })).toThrow(/ALLOWED_REDIRECT_ORIGINS must be/);
    }
    expect(loadConfig({ CORS_DELIVERY_ORIGIN: 'https://site.example.org:443' }).corsDeliveryOrigin).toBe('https://site.example.org');
    expect(() => loadConfig({ CORS_DELIVERY_ORIGIN: 'https://*.example.org' })).toThrow(/CORS_DELIVERY_ORIGIN must be/);
  });

  test('REMOTE_ALLOW_HOSTS entries are stored as URLs carry hosts; ones that could never match are refused', () => {
    const c = loadConfig({ REMOTE_SOURCES: 'true', REMOTE_ALLOW_HOSTS: 'IMG.example.com., *.Bücher.de, https://cdn.example.com:443/pub, [::1], ::2' });
    expect(c.remote.allowHosts).toEqual(['img.example.com', '*.xn--bcher-kva.de', 'https://cdn.example.com/pub', '[::1]', '[::2]']);
    for (const [bad, why] of [
      ['img.example.com:8080', 'a port needs a URL prefix, such as http://img.example.com:8080/'],
      ['*', 'a wildcard is written `*.example.com`'],
      ['*example.com', 'a wildcard is written'],
      ['example.com/pub', 'a path needs a URL prefix with its scheme'],
      ['https://', 'is not a URL'],
      ['ftp://files.example.com/', 'a URL prefix starts with http:// or https://'],
    ]) {
      expect(() => loadConfig({ REMOTE_SOURCES: 'true', REMOTE_ALLOW_HOSTS: bad! })).toThrow(`REMOTE_ALLOW_HOSTS: ${JSON.stringify(bad)} could never match: ${why}`);
    }
  });

  test('a mistyped setting is named with the one it most likely meant; the rest of the environment is left alone', () => {
    const env = { MAX_UPLOAD_SIZE: '1KiB', RATE_LIMIT_LOGINS: '1/1m', max_upload_bytes: '1', HOME: '/root', PATH: '/bin', NODE_ENV: 'production', LOG_FORMAT: 'json', MAX_UPLOAD_BYTES: '1MiB' };
    expect(mistypedSettings(env)).toEqual([
      { name: 'MAX_UPLOAD_SIZE', meant: 'MAX_UPLOAD_BYTES' },
      { name: 'RATE_LIMIT_LOGINS', meant: 'RATE_LIMIT_LOGIN' },
      { name: 'max_upload_bytes', meant: 'MAX_UPLOAD_BYTES' },
    ]);
  });

  test('every variable has a doc line', () => {
    for (const [name, schema] of Object.entries(configSchema)) {
      expect(typeof schema.description, name).toBe('string');
      expect(String(schema.description).length, name).toBeGreaterThan(5);
    }
  });

  test('the README configuration table is generated from the schema and up to date', () => {
    const readme = readFileSync(resolve(import.meta.dir, '../README.md'), 'utf8');
    expect(renderReadme(readme)).toBe(readme);
    for (const name of Object.keys(configSchema)) expect(readme).toContain(`\`${name}\``);
  });
});

describe('units', () => {
  test('bytes', () => {
    expect(parseBytes('750MiB')).toBe(786_432_000);
    expect(parseBytes('1.5GB')).toBe(1_500_000_000);
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes('10 gib')).toBe(10 * 1024 ** 3);
    expect(parseBytes('-1')).toBeNull();
    expect(parseBytes('1XB')).toBeNull();
    expect(parseBytes('0.5b')).toBeNull();
    expect(parseBytes('0.1')).toBeNull();
  });
  test('durations and rules', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('15m')).toBe(900_000);
    expect(parseDurationMs('0s')).toBeNull();
    expect(parseRateRule('10GiB/1h', false, true)).toEqual({ max: 10 * 1024 ** 3, windowMs: 3_600_000 });
    // A count bucket takes a whole number (5KB was 5000 logins), a window whole s/m/h/d (100ms rounded to 0 s).
    expect(parseRateRule('10GiB/1h')).toBeNull();
    expect(parseRateRule('2.7/15m')).toBeNull();
    expect(parseRateRule('5/100ms')).toBeNull();
    expect(parseRateRule('5/15m')).toEqual({ max: 5, windowMs: 900_000 });
    expect(parseRateRule('5/15m/3')).toBeNull();
    expect(parseRateRule('8', true)).toEqual({ max: 8, windowMs: 0 });
    expect(parseRateRule('0', true)).toBeNull();
  });
});
