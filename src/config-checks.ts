/**
 * Checks of the configuration beyond each variable's own form (config.ts): values each valid
 * alone that contradict each other, name what does not exist, or could never take effect.
 * Before each was refused, the server started and then misbehaved, or failed later with a
 * stack trace that did not name the variable.
 */
import { existsSync, statSync } from 'node:fs';
import { EMAIL_PATTERN, MAX_EMAIL, MAX_PASSWORD, MIN_PASSWORD } from './lib/account-rules';
import { normaliseAllowEntry } from './lib/ssrf';
import { closestName } from './lib/suggest';
import { parseTrustProxy } from './modules/limits/client-ip';
import { CONTENT_TYPES } from './modules/reference/content-types';

type Values = Record<string, unknown>;

/** A file with an execute bit (read from its mode: Bun's access(X_OK) passed `/etc/hostname` for root). */
function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
type Env = Record<string, string | undefined>;

/** The schemes each connection URL's client understands, with an example for the message. */
const URL_SCHEMES: Record<string, { schemes: string[]; example: string }> = {
  DATABASE_URL: { schemes: ['postgres', 'postgresql'], example: 'postgres://user:password@host:5432/pictor' },
  REDIS_URL: { schemes: ['redis', 'rediss'], example: 'redis://host:6379' },
  SMTP_URL: { schemes: ['smtp', 'smtps'], example: 'smtp://user:password@host:587' },
  S3_ENDPOINT: { schemes: ['http', 'https'], example: 'http://minio:9000' },
};

const S3_SETTINGS = ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE', 'S3_TIMEOUT_MS'];

/**
 * Every problem found, as lines naming the variable. May replace a value by its normalised form
 * (`REMOTE_ALLOW_HOSTS` entries as URLs carry hosts).
 */
export function crossChecks(values: Values, env: Env): string[] {
  return [...contradictions(values, env), ...connectionUrls(values), ...storage(values, env), ...withoutTheirSwitch(values, env), ...bootstrapAdmin(values), ...secrets(values), ...names(values)];
}

/** Shortest secret taken from the environment: the generated ones are 48 characters. */
const MIN_SECRET_CHARS = 32;

/** A short HMAC key can be guessed offline from one token or signed URL; the sender's address must be one. */
function secrets(values: Values): string[] {
  const problems: string[] = [];
  const short = (s: string) => s.length < MIN_SECRET_CHARS;
  const make = '`openssl rand -base64 36` makes one';
  const jwt = values.JWT_SECRET as string | undefined;
  if (jwt !== undefined && short(jwt)) problems.push(`JWT_SECRET must be at least ${MIN_SECRET_CHARS} characters (it signs every session; ${make}); got ${jwt.length}`);
  const signing = (values.SIGNING_SECRETS as string[] | undefined) ?? [];
  for (const [i, secret] of signing.entries()) {
    if (short(secret)) problems.push(`SIGNING_SECRETS: secret ${i + 1} must be at least ${MIN_SECRET_CHARS} characters (it signs URLs anyone may hold; ${make}); got ${secret.length}`);
  }
  const from = values.MAIL_FROM as string | undefined;
  const address = from === undefined ? undefined : (/<([^<>]*)>\s*$/.exec(from)?.[1] ?? from).trim();
  if (address !== undefined && !new RegExp(EMAIL_PATTERN).test(address)) {
    problems.push(`MAIL_FROM must be an address, alone or as \`Name <address>\`, such as \`Pictor <no-reply@example.com>\`; got ${JSON.stringify(from)}`);
  }
  return problems;
}

function contradictions(values: Values, env: Env): string[] {
  const problems: string[] = [];
  // Promoting an account would lower its limit.
  if ((values.PROMOTED_MAX_UPLOAD_BYTES as number) < (values.MAX_UPLOAD_BYTES as number)) {
    problems.push(`PROMOTED_MAX_UPLOAD_BYTES (${String(env.PROMOTED_MAX_UPLOAD_BYTES ?? 'default')}) must be at least MAX_UPLOAD_BYTES (${String(env.MAX_UPLOAD_BYTES ?? 'default')}): promoting an account would lower its limit`);
  }
  if ((values.WEBHOOK_RETRY_BASE_MS as number) > (values.WEBHOOK_RETRY_MAX_MS as number)) {
    problems.push('WEBHOOK_RETRY_BASE_MS must be at most WEBHOOK_RETRY_MAX_MS');
  }
  if ((values.WORKERS as number) > 1 && !values.DATABASE_URL) {
    problems.push('WORKERS must be 1 without DATABASE_URL (the embedded PGlite database belongs to one process)');
  }
  return problems;
}

/** A URL its client cannot read failed the start with the client's stack trace (`Invalid URL`), or was read as something else (ioredis took `http://…` for a socket path). */
function connectionUrls(values: Values): string[] {
  const problems: string[] = [];
  for (const [name, { schemes, example }] of Object.entries(URL_SCHEMES)) {
    const value = values[name] as string | undefined;
    if (value === undefined) continue;
    let u: URL | null = null;
    try {
      u = new URL(value);
    } catch {
      u = null;
    }
    const scheme = u?.protocol.slice(0, -1);
    // A Postgres URL may leave the host to `?host=/run/postgresql` (a socket directory).
    const hostOk = u !== null && (u.hostname !== '' || name === 'DATABASE_URL');
    if (u && scheme && schemes.includes(scheme) && hostOk) continue;
    const why = !u
      ? 'is not a URL (is the port a number below 65536? characters such as @ / # in a password are written percent-encoded)'
      : !schemes.includes(scheme ?? '') ? `starts with ${scheme}://` : 'names no host';
    problems.push(`${name} must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL such as ${example}; the value given ${why}`);
  }
  return problems;
}

function storage(values: Values, env: Env): string[] {
  const problems: string[] = [];
  if (values.STORAGE_DRIVER === 's3' && !values.S3_BUCKET) problems.push('S3_BUCKET must be set when STORAGE_DRIVER=s3');
  // S3 settings without the S3 driver stored every file on local disk without a word.
  const s3Set = S3_SETTINGS.filter((n) => env[n] !== undefined && env[n]!.trim() !== '');
  if (values.STORAGE_DRIVER !== 's3' && s3Set.length > 0) {
    problems.push(`${s3Set.join(', ')} ${s3Set.length > 1 ? 'are' : 'is'} set but STORAGE_DRIVER is fs, so files would be stored on local disk: set STORAGE_DRIVER=s3, or unset ${s3Set.length > 1 ? 'them' : 'it'}`);
  }
  // Half a key pair was dropped, and the AWS SDK's own credential chain used instead.
  const given = (name: string) => (env[name]?.trim() ?? '') !== '';
  if (given('S3_ACCESS_KEY_ID') !== given('S3_SECRET_ACCESS_KEY')) {
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither (then the AWS SDK finds credentials itself: AWS_* variables, instance roles)');
  }
  return problems;
}

/**
 * Settings of a feature or backend that is not in use: each was accepted and did nothing (as
 * S3 settings without the S3 driver, refused in `storage`).
 */
function withoutTheirSwitch(values: Values, env: Env): string[] {
  const set = (names: readonly string[]) => names.filter((n) => env[n] !== undefined && env[n]!.trim() !== '');
  const problems: string[] = [];
  const list = (names: string[]) => `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'}`;
  const remote = set(['REMOTE_ALLOW_HOSTS', 'REMOTE_SIGNED_ONLY', 'REMOTE_MAX_BYTES', 'REMOTE_TIMEOUT_MS', 'REMOTE_MAX_REDIRECTS', 'REMOTE_CACHE_TTL', 'REMOTE_CACHE_BYTES']);
  if (values.REMOTE_SOURCES !== true && remote.length > 0) problems.push(`${list(remote)} set but REMOTE_SOURCES is off, so nothing is ever fetched: set REMOTE_SOURCES=true, or unset ${remote.length > 1 ? 'them' : 'it'}`);
  if (set(['MAIL_FROM']).length > 0 && !values.SMTP_URL) problems.push('MAIL_FROM is set but SMTP_URL is not, so no mail is sent: set SMTP_URL, or unset MAIL_FROM');
  if (set(['DATABASE_POOL']).length > 0 && !values.DATABASE_URL) problems.push('DATABASE_POOL is set but DATABASE_URL is not (the embedded PGlite has one connection): set DATABASE_URL, or unset DATABASE_POOL');
  if (set(['PGLITE_SHARED_BUFFERS']).length > 0 && values.DATABASE_URL) problems.push('PGLITE_SHARED_BUFFERS is set but DATABASE_URL is too, so PGlite is not used: unset one of them');
  return problems;
}

/** The bootstrap admin must be able to sign in with what was set. */
function bootstrapAdmin(values: Values): string[] {
  const problems: string[] = [];
  const email = values.ADMIN_EMAIL as string | undefined;
  if (email !== undefined && (email.length > MAX_EMAIL || !new RegExp(EMAIL_PATTERN).test(email))) {
    problems.push(`ADMIN_EMAIL must be an email address such as admin@example.com (the admin signs in with it); got ${JSON.stringify(email)}`);
  }
  const password = values.ADMIN_PASSWORD as string | undefined;
  if (password !== undefined && (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)) {
    problems.push(`ADMIN_PASSWORD must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters, as every password is; got ${password.length}`);
  }
  return problems;
}

/** Types, paths, proxies and hosts that do not exist or could never match. */
function names(values: Values): string[] {
  const problems: string[] = [];
  // An unknown type would be dropped from the allow-list without a word (`image/jpg` for `image/jpeg`).
  for (const type of (values.ALLOWED_TYPES as string[] | undefined) ?? []) {
    const known = type.endsWith('/*') ? CONTENT_TYPES.some((c) => c.mime.startsWith(type.slice(0, -1))) : CONTENT_TYPES.some((c) => c.mime === type);
    if (!known) {
      const near = closestName(type, CONTENT_TYPES.map((c) => c.mime));
      problems.push(`ALLOWED_TYPES: ${JSON.stringify(type)} is not a type Pictor stores${near ? ` (did you mean ${near}?)` : ''}`);
    }
  }
  // PUBLIC_URL is the base of every link the API gives: it must be one a browser can open.
  if (values.PUBLIC_URL !== undefined) {
    let ok = false;
    try {
      const u = new URL(values.PUBLIC_URL as string);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '' && u.port !== '0';
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`PUBLIC_URL must be an http(s) URL with no query, fragment, credentials or port 0, such as https://media.example.com; got ${JSON.stringify(values.PUBLIC_URL)}`);
  }
  // A missing binary started fine and failed every video upload with a 500; so did a directory
  // or a file that cannot be run (`/tmp`, `/etc/hostname`).
  for (const name of ['FFMPEG_PATH', 'FFPROBE_PATH'] as const) {
    const path = values[name] as string | undefined;
    if (path === undefined) continue;
    if (!existsSync(path)) problems.push(`${name} names no file: ${JSON.stringify(path)}`);
    else if (!isExecutableFile(path)) problems.push(`${name} must name a program this server can run; ${JSON.stringify(path)} is ${statSync(path).isFile() ? 'a file without execute permission' : 'not a file'}`);
  }
  // Read here as the limiter reads it, so a bad one is a configuration error, not a stack trace
  // after the start had begun (`true` is neither a hop count nor an address).
  if (values.TRUST_PROXY !== undefined && !isTrustProxy(values.TRUST_PROXY as string)) {
    problems.push(`TRUST_PROXY must be a hop count (\`1\`), \`false\`, or a comma list of addresses/CIDRs such as \`10.0.0.0/8,::1/128\`; got ${JSON.stringify(values.TRUST_PROXY)}`);
  }
  const hosts = values.REMOTE_ALLOW_HOSTS as string[] | undefined;
  if (hosts) {
    const entries: string[] = [];
    for (const raw of hosts) {
      const r = normaliseAllowEntry(raw);
      if ('problem' in r) problems.push(`REMOTE_ALLOW_HOSTS: ${JSON.stringify(raw)} could never match: ${r.problem}`);
      else entries.push(r.entry);
    }
    values.REMOTE_ALLOW_HOSTS = entries;
  }
  return problems;
}

const isTrustProxy = (value: string): boolean => {
  try {
    parseTrustProxy(value);
    return true;
  } catch {
    return false;
  }
};
