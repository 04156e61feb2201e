/**
 * Every environment variable Pictor reads, declared once with its default and a one-line doc
 * (API.md §11). Parsed once at boot by `loadConfig`; an invalid value stops the server with a
 * message naming the variable and what is allowed. The README's configuration table is
 * generated from this schema (`npm run docs:config`), and a test fails when it is stale.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { closestName } from './lib/suggest';
import { formatBytes, parseBytes, parseRateRule, type RateRule } from './lib/units';
import { crossChecks } from './config-checks';

type Kind = 'int' | 'bool' | 'bytes' | 'string' | 'url' | 'enum' | 'list' | 'origin' | 'origins' | 'rate' | 'byterate' | 'concurrency' | 'space';

interface VarOptions {
  doc: string;
  /** Default as written in the environment; omitted = optional (unset is allowed). */
  default?: string;
  /** Text shown in the README when the default is computed rather than literal. */
  defaultText?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  secret?: boolean;
  /** What the README and the error message say is allowed, when the kind's own wording is too vague. */
  allowed?: string;
  /** Unit of an integer (`seconds`, `days`), named where what is allowed is said. */
  unit?: string;
}

/** Builds the schema of one variable; the `x-env-kind` drives string → value conversion. */
function envVar(kind: Kind, base: TSchema, o: VarOptions): TSchema {
  return {
    ...base,
    description: o.doc,
    ...(o.default !== undefined ? { default: o.default } : {}),
    'x-env-kind': kind,
    'x-default-text': o.defaultText ?? o.default ?? 'unset',
    ...(o.secret ? { 'x-secret': true } : {}),
    ...(o.allowed ? { 'x-allowed': o.allowed } : {}),
    ...(o.unit ? { 'x-unit': o.unit } : {}),
  };
}

const int = (o: VarOptions & { min: number; max: number }) =>
  envVar('int', Type.Integer({ minimum: o.min, maximum: o.max }), o);
const bool = (o: VarOptions) => envVar('bool', Type.Boolean(), o);
const bytes = (o: VarOptions & { min?: number; max?: number }) =>
  envVar('bytes', Type.Integer({ minimum: o.min ?? 0, ...(o.max !== undefined ? { maximum: o.max } : {}) }), o);
const str = (o: VarOptions) => envVar('string', Type.String({ minLength: 1 }), o);
const url = (o: VarOptions) => envVar('url', Type.String({ pattern: '^[a-z][a-z0-9+.-]*://' }), o);
const oneOf = <const V extends readonly string[]>(values: V, o: VarOptions) =>
  envVar('enum', Type.Union(values.map((v) => Type.Literal(v))), { ...o, values });
const list = (o: VarOptions) => envVar('list', Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), o);
/** `scheme://host[:port]`, nothing after it (what a browser sends as `Origin`): no path, credentials or wildcard. */
const ORIGIN_PATTERN = '^[a-z][a-z0-9+.-]*://[^/\\s?#@*]+$';
const origins = (o: VarOptions) => envVar('origins', Type.Array(Type.String({ pattern: ORIGIN_PATTERN }), { minItems: 1 }), o);
const rate = (o: VarOptions) => envVar('rate', Type.Object({ max: Type.Integer({ minimum: 1 }), windowMs: Type.Integer({ minimum: 1 }) }), o);
/** A rate whose count is bytes (`10GiB/1h`). */
const byteRate = (o: VarOptions) => envVar('byterate', Type.Object({ max: Type.Integer({ minimum: 1 }), windowMs: Type.Integer({ minimum: 1 }) }), o);
/** Disk space as a share of the filesystem (`10%`) or a byte size (`1GiB`). */
const space = (o: VarOptions) => envVar('space', Type.Union([
  Type.Object({ percent: Type.Number({ minimum: 0, maximum: 100 }) }),
  Type.Object({ bytes: Type.Integer({ minimum: 0 }) }),
]), o);
const concurrency = (o: VarOptions) => envVar('concurrency', Type.Object({ max: Type.Integer({ minimum: 1 }), windowMs: Type.Literal(0) }), o);

/** Content types accepted for upload by default (API.md §4). Families (`image/*`) are allowed too. */
export const DEFAULT_ALLOWED_TYPES = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif',
  'image/tiff', 'image/bmp', 'image/svg+xml', 'video/mp4', 'video/webm', 'video/quicktime',
  'video/x-m4v', 'application/pdf', 'text/plain', 'application/zip',
];

/** The schema: one entry per variable, in the order of the README table. */
export const configSchema = {
  PORT: int({ doc: 'Port to listen on (0 picks a free port).', default: '3000', min: 0, max: 65535 }),
  HOST: str({ doc: 'Address to listen on.', default: '0.0.0.0' }),
  PUBLIC_URL: url({
    doc: 'Base of every URL the API returns (no trailing slash); unset → `http://localhost:<port>` with the port actually listened on.',
    defaultText: '`http://localhost:<PORT>`',
  }),
  DATA_DIR: str({ doc: 'Embedded database, local files and the disk cache live here.', default: './data' }),
  DATABASE_URL: url({ doc: 'Postgres connection string; unset → embedded PGlite in `DATA_DIR/pg`.', secret: true }),
  DATABASE_POOL: int({ doc: 'Postgres connections per process.', default: '10', min: 1, max: 500 }),
  DATABASE_STATEMENT_TIMEOUT_MS: int({ doc: 'When set, a Postgres statement that runs, or waits for a lock, longer than this is cancelled and its request answers 503 `DATABASE_UNAVAILABLE`, and a transaction left idle for 4 × this is ended; a database that sends nothing for 5 s longer than this while a statement waits (paused, or cut off by a network that drops packets) has that connection closed, with the same 503 (time a statement waits in a pooler\'s queue, PgBouncer\'s, counts as silence too). It applies to every statement, the nightly prune\'s and an account deletion\'s too: set it above the longest of those. Sent as connection parameters, which PgBouncer refuses unless listed in its `ignore_startup_parameters` (there, set `statement_timeout` on the role instead). `0`: no limit. Not for PGlite.', default: '0', min: 0, max: 3600000, unit: 'ms' }),
  PGLITE_SHARED_BUFFERS: bytes({
    doc: 'Embedded PGlite\'s buffer cache (`shared_buffers`); all of it is resident from the start. Pages beyond it are read from the OS page cache.',
    default: '16MiB', min: 1024 * 1024, max: 1024 * 1024 * 1024,
  }),
  REDIS_URL: url({ doc: 'Redis connection string (`redis://host:6379[/db]`, `rediss://` for TLS); it must answer at start. Unset → in-process limiter and event bus. If it goes away later, limits fall back to each process until it is back.', secret: true }),
  STORAGE_DRIVER: oneOf(['fs', 's3'], { doc: 'Where file bytes go: local disk under `DATA_DIR/files`, or an S3 bucket (the `S3_*` settings are refused with `fs`).', default: 'fs' }),
  S3_ENDPOINT: url({ doc: 'S3-compatible endpoint (MinIO, R2, …); unset → AWS.' }),
  S3_REGION: str({ doc: 'S3 region.', default: 'us-east-1' }),
  S3_BUCKET: str({ doc: 'S3 bucket (required when `STORAGE_DRIVER=s3`).' }),
  S3_ACCESS_KEY_ID: str({ doc: 'S3 access key id.', secret: true }),
  S3_SECRET_ACCESS_KEY: str({ doc: 'S3 secret access key.', secret: true }),
  S3_FORCE_PATH_STYLE: bool({ doc: 'Path-style bucket addressing (needed by MinIO).', default: 'false' }),
  S3_TIMEOUT_MS: int({ doc: 'An S3 request that waits this long on the storage without progress (a streamed body\'s waiting bytes not taken; no answer once its body is sent, plus 4 s per MiB of a body sent from memory; or no byte of the answer) is abandoned; after the SDK\'s 3 attempts the request is a 503 `STORAGE_UNAVAILABLE`.', default: '15000', min: 1000, max: 600000 }),
  JWT_SECRET: str({ doc: 'Access-token signing key, at least 32 characters; unset → generated once into `DATA_DIR/secrets.json` (warns).', secret: true }),
  SIGNING_SECRETS: list({ doc: 'Comma list of signed-URL secrets of at least 32 characters each, the first signs, all verify; unset → generated once (warns).', secret: true }),
  ADMIN_EMAIL: str({ doc: 'Bootstrap admin email (first start only); unset → `admin@localhost`.' }),
  ADMIN_PASSWORD: str({ doc: 'Bootstrap admin password; unset → generated and printed once.', secret: true }),
  INVITE_ONLY: bool({ doc: 'Registration needs an invite code.', default: 'false' }),
  REQUIRE_EMAIL_VERIFICATION: bool({ doc: 'Login waits for the email confirmation link.', default: 'false' }),
  REFRESH_REUSE_INTERVAL: int({ doc: 'Seconds after a refresh token is rotated during which using it again returns the current session instead of revoking it (two tabs refreshing at once); 0 → every reuse revokes.', default: '30', min: 0, max: 300, unit: 'seconds' }),
  SMTP_URL: url({ doc: 'Outgoing mail server (`smtp://user:pass@host:587`); unset → mails are logged.', secret: true }),
  MAIL_FROM: str({ doc: 'Sender of outgoing mail: an address, alone or as `Name <address>`.', default: 'Pictor <no-reply@localhost>' }),
  ALLOWED_REDIRECT_ORIGINS: origins({
    doc: 'Comma list of origins (`https://app.example.com`) a password-reset `redirect_to` may point at, besides `PUBLIC_URL`\'s own; others → 400.',
    defaultText: 'only `PUBLIC_URL`\'s origin',
  }),
  MAX_UPLOAD_BYTES: bytes({ doc: 'Per-file upload limit of the default plan.', default: '750MiB', min: 1 }),
  PROMOTED_MAX_UPLOAD_BYTES: bytes({ doc: 'Per-file upload limit of promoted accounts.', default: '1GiB', min: 1 }),
  MAX_JSON_BODY_BYTES: bytes({ doc: 'Largest JSON request body; larger ones get 413 without being read.', default: '1MiB', min: 1024 }),
  UPLOAD_IDLE_TIMEOUT: int({ doc: 'Seconds an upload (or a JSON body) may send nothing before it is aborted (408 `REQUEST_TIMEOUT`, nothing kept, its concurrency slot freed); slow uploads that keep sending continue.', default: '30', min: 1, max: 3600, unit: 'seconds' }),
  ABANDONED_UPLOAD_AFTER: int({ doc: 'Seconds after which an unfinished upload left by a crash is removed, at start-up and hourly: S3 multipart uploads under the bucket (prefix), local temp files not owned by a live process of this host, and stored objects no file row references (an upload killed before its row was committed). Keep it above your longest upload.', default: '86400', min: 1, max: 31536000, unit: 'seconds' }),
  MIN_FREE_DISK: space({ doc: 'Free space below which `/health/ready` reports local storage (`DATA_DIR/files`) `degraded`: a share (`10%`) or a size (`5GiB`).', default: '10%', allowed: 'a percentage such as `10%` or a byte size such as `5GiB`' }),
  STORAGE_QUOTA_BYTES: bytes({ doc: 'Storage quota per account (promoted: unlimited).', default: '50GiB', min: 1 }),
  MAX_FILES: int({ doc: 'File-count quota per account (promoted: unlimited).', default: '100000', min: 1, max: 1e9 }),
  ALLOWED_TYPES: list({ doc: 'Comma list of MIME types or families (`image/*`) accepted for upload.', default: DEFAULT_ALLOWED_TYPES.join(','), defaultText: 'the list in API.md §4' }),
  TRANSFORM_POLICY: oneOf(['open', 'presets', 'signed'], { doc: 'Which unsigned `/t` URLs are allowed.', default: 'open' }),
  TRANSFORM_CONCURRENCY: int({ doc: 'Transforms running at once; 0 → number of CPU cores.', default: '0', defaultText: 'CPU cores', min: 0, max: 256 }),
  TRANSFORM_QUEUE: int({ doc: 'Transforms waiting for the pool; past it 503 `OVERLOADED`.', default: '64', min: 0, max: 100000 }),
  TRANSFORM_TIMEOUT_MS: int({ doc: 'A transform not done this long after its request (queue wait included) is abandoned with 503, and its work stopped.', default: '15000', min: 100, max: 600000 }),
  MAX_DIMENSION: int({ doc: 'Largest output width or height. Below 2048 the built-in presets that exceed it (`large` is `w_2048`) must be replaced in `PRESETS`, or the start stops naming them.', default: '8192', min: 16, max: 65535 }),
  MAX_OUTPUT_PIXELS: int({ doc: 'Largest output area in pixels.', default: '40000000', min: 256, max: 1e10 }),
  MAX_INPUT_PIXELS: int({ doc: 'Largest source area in pixels (frames summed), checked before decoding.', default: '100000000', min: 256, max: 1e10 }),
  MAX_ANIMATION_FRAMES: int({ doc: 'Most frames an animated source may have to be transformed; one with more answers 400 (read from its header, not decoded).', default: '300', min: 1, max: 100000 }),
  AUTO_AVIF: bool({ doc: '`f_auto` may pick AVIF when the client accepts it.', default: 'true' }),
  FFMPEG_PATH: str({ doc: 'ffmpeg binary for video posters and renditions.', defaultText: 'the one bundled by `@ffmpeg-installer/ffmpeg`' }),
  FFPROBE_PATH: str({ doc: 'ffprobe binary for probing uploaded video.', defaultText: 'the one bundled by `@ffprobe-installer/ffprobe`' }),
  VIDEO_PROBE_TIMEOUT_MS: int({ doc: 'Longest ffprobe run on an uploaded video; past it the upload is refused (415) and nothing kept.', default: '15000', min: 100, max: 600000 }),
  VIDEO_MAX_DURATION: int({ doc: 'Longest source video (seconds) that renditions are transcoded from; longer ones answer 400 (posters are not limited by length).', default: '3600', min: 1, max: 1000000, unit: 'seconds' }),
  VIDEO_MAX_PIXELS: int({ doc: 'Largest source video frame (width × height) that posters and renditions are made from; larger ones answer 400.', default: '8294400', min: 256, max: 1e9 }),
  VIDEO_MAX_OUTPUT_BYTES: bytes({ doc: 'Largest rendition file (renditions live in the disk cache, which keeps files up to `CACHE_DISK_BYTES` / 8: the lower bound applies); ffmpeg stops there and the job fails.', default: '512MiB', min: 1024 }),
  VIDEO_TIMEOUT_MS: int({ doc: 'A rendition job running longer is killed (ffmpeg too) and fails with a readable error.', default: '600000', min: 1000, max: 86400000 }),
  VIDEO_STORED_BYTES: bytes({ doc: 'Video renditions also kept in the storage, for processes whose derivative cache lacks one (another host, an API process whose worker runs elsewhere); only those such a process asked for are stored, and past this total the least recently used go; one larger than this fails its job (422 to the asker). 0 keeps none: each process then serves only renditions made in its own `CACHE_DIR`, and answers the others with 422 naming this setting.', default: '5GiB' }),
  VIDEO_CONCURRENCY: int({ doc: 'Renditions transcoding at once per process (separate from `TRANSFORM_CONCURRENCY`).', default: '1', min: 1, max: 64 }),
  RASTERIZE_SVG: bool({ doc: 'Allow transforming SVG (rasterised by librsvg, no external references).', default: 'false' }),
  CACHE_MEMORY_BYTES: bytes({ doc: 'Memory tier of the derivative cache; 0 turns it off.', default: '256MiB' }),
  CACHE_DISK_BYTES: bytes({ doc: 'Disk tier of the derivative cache; it keeps files up to an eighth of this. 0 turns it off (with both off, every request renders again; video renditions, which live there, then fail).', default: '5GiB' }),
  SOURCE_CACHE_BYTES: bytes({
    doc: 'Originals (and their probed headers) kept in memory after a render, so the other sizes of a just-requested image do not read storage again; 0 turns it off.',
    default: '64MiB',
  }),
  CACHE_DIR: str({ doc: 'Disk tier location.', defaultText: '`DATA_DIR/cache`' }),
  PRESETS: str({ doc: 'Named transformations: JSON, or a path to a JSON file.', defaultText: 'the table in TRANSFORMS.md' }),
  RATE_LIMIT_PUBLIC: rate({ doc: '`/i`, `/d`, `/t` requests per client IP.', default: '6000/60s' }),
  RATE_LIMIT_TRANSFORM: rate({ doc: 'Derivative cache misses per client IP.', default: '120/60s' }),
  RATE_LIMIT_API: rate({ doc: 'Authenticated `/api` calls per account.', default: '1200/60s' }),
  RATE_LIMIT_UPLOAD_COUNT: rate({ doc: 'Uploads per account.', default: '600/10m' }),
  RATE_LIMIT_UPLOAD_BYTES: byteRate({ doc: 'Uploaded bytes per account, counted as they arrive; a declared length that does not fit what is left is refused (429) before a byte is read.', default: '10GiB/1h' }),
  RATE_LIMIT_UPLOAD_CONCURRENCY: concurrency({ doc: 'Uploads in progress at once per account.', default: '8' }),
  RATE_LIMIT_LOGIN: rate({ doc: 'Login attempts per IP and email.', default: '5/15m' }),
  RATE_LIMIT_LOGIN_IP: rate({ doc: 'Login attempts per IP, whatever the email (stops one address trying many accounts).', default: '50/15m' }),
  RATE_LIMIT_REGISTER: rate({ doc: 'Registrations per IP.', default: '3/1h' }),
  RATE_LIMIT_PASSWORD_RESET: rate({ doc: 'Password-reset links asked for per IP (`forgot-password`); using one counts in `RATE_LIMIT_SENSITIVE`.', default: '5/1h' }),
  RATE_LIMIT_SENSITIVE: rate({ doc: 'Change-password, verify, reset-password and password-confirmed account deletion calls per IP.', default: '30/15m' }),
  RATE_LIMIT_REFRESH: rate({ doc: 'Session refreshes per IP: each signed-in browser or app refreshes about every 15 minutes (its access token\'s life), so an office behind one address needs room; a refresh token cannot be guessed, so this bounds work, not guessing.', default: '600/15m' }),
  RATE_LIMIT_SHARE_PASSWORD: rate({ doc: 'Password attempts on one protected share link (`/s/<token>`) per client IP; right or wrong, each attempt counts.', default: '10/15m' }),
  DISABLE_RATE_LIMIT: bool({ doc: 'Turn every rate limit off.', default: 'false' }),
  TRUST_PROXY: str({
    doc: 'Trusted proxy hop count (`1`) or CIDR list (`10.0.0.0/8,::1/128`) for `X-Forwarded-For`.',
    allowed: 'a hop count such as `1`, `0` or `false` (none), or a comma list of addresses and CIDRs',
  }),
  CORS_DELIVERY_ORIGIN: envVar('origin', Type.String({ pattern: '^(\\*|none|[a-z][a-z0-9+.-]*://[^/\\s?#@*]+)$' }), {
    doc: '`Access-Control-Allow-Origin` of public delivery (`/i`, `/d`, `/t`, `/authenticated`), so images work in canvas and `fetch`: `*`, one origin, or `none` for no CORS headers.',
    default: '*',
    allowed: '`*`, `none` or one origin such as `https://app.example.com`',
  }),
  CORS_API_ORIGINS: origins({ doc: 'Comma list of origins allowed to call `/api` from a browser (preflights answered, credentials allowed); unset → none.' }),
  WORKERS: int({ doc: 'Server processes sharing the port (`reusePort`); >1 needs `DATABASE_URL`.', default: '1', min: 1, max: 64 }),
  SHUTDOWN_TIMEOUT_MS: int({ doc: 'On SIGTERM, how long in-flight requests may take to finish.', default: '30000', min: 0, max: 600000 }),
  METRICS_TOKEN: str({ doc: 'Bearer token for `/metrics`; unset → admins only.', secret: true }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { doc: 'pino log level.', default: 'info' }),
  LOG_RETENTION_DAYS: int({ doc: 'Request logs older than this are pruned.', default: '30', min: 1, max: 3650, unit: 'days' }),
  REQUEST_LOGS: bool({ doc: 'Keep per-account request logs (`GET /api/logs`).', default: 'true' }),
  REQUEST_LOG_BUFFER: int({ doc: 'Request-log entries held in memory for the batch writer; past it entries are dropped and counted.', default: '10000', min: 1, max: 10000000 }),
  QUEUE_CONCURRENCY: int({ doc: 'Jobs this process runs at once; 0 → no worker in the API process (run `npm run worker`).', default: '4', min: 0, max: 256 }),
  QUEUE_LEASE_MS: int({ doc: 'Job lease: a job whose worker stops renewing it for this long is retried elsewhere.', default: '30000', min: 300, max: 3600000 }),
  QUEUE_POLL_MS: int({ doc: 'How often idle queue workers look for due jobs (one indexed query); an upload wakes its own process at once.', default: '1000', min: 10, max: 600000 }),
  QUEUE_RETENTION_DAYS: int({ doc: 'Finished jobs and queue events older than this are pruned.', default: '7', min: 1, max: 3650, unit: 'days' }),
  QUEUE_DEFER_MS: int({ doc: 'Longest an upload\'s eager derivatives (`derive` jobs) wait while this process is receiving uploads, so a burst of photo uploads is not slowed by its own thumbnails; past it they run one at a time alongside. 0 → never wait.', default: '30000', min: 0, max: 3600000 }),
  REMOTE_SOURCES: bool({ doc: 'Serve `/t/<transformations>/remote/<source>`: transform images fetched from other servers (off: nothing is ever fetched, 404).', default: 'false' }),
  REMOTE_ALLOW_HOSTS: list({ doc: 'Comma list of what remote sources may be fetched from: hosts (`img.example.com`), subdomain wildcards (`*.example.com`) or URL prefixes (`https://cdn.example.com/pub/`, also for a port: `http://img.example.com:8080/`); unset → any public host. Checked again on every redirect.' }),
  REMOTE_SIGNED_ONLY: bool({ doc: 'Remote sources only through signed URLs (`POST /api/remote/signed-url`); unsigned ones → 403.', default: 'false' }),
  REMOTE_MAX_BYTES: bytes({ doc: 'Largest remote source; a longer body is cut off while streaming (413).', default: '20MiB', min: 1024 }),
  REMOTE_TIMEOUT_MS: int({ doc: 'Whole fetch of a remote source (DNS, connection, redirects, body); past it 504.', default: '10000', min: 100, max: 600000 }),
  REMOTE_MAX_REDIRECTS: int({ doc: 'Redirects followed for a remote source (each target checked again).', default: '3', min: 0, max: 10 }),
  REMOTE_CACHE_TTL: int({ doc: 'Seconds a fetched remote source is used without asking its server again; then it is revalidated with its ETag/Last-Modified.', default: '3600', min: 0, max: 31536000, unit: 'seconds' }),
  REMOTE_CACHE_BYTES: bytes({ doc: 'Memory for fetched remote sources (by URL, with their validators); derivatives go to the derivative cache. 0 turns it off (every render fetches again).', default: '64MiB' }),
  OUTBOUND_ALLOW_PRIVATE: bool({ doc: 'Let remote sources and webhooks reach private addresses (10/8, 172.16/12, 192.168/16, fc00::/7). Link-local, metadata and other special addresses stay refused.', default: 'false' }),
  OUTBOUND_ALLOW_LOOPBACK: bool({ doc: 'Let remote sources and webhooks reach loopback (127/8, ::1). For tests and single-machine setups only.', default: 'false' }),
  WEBHOOK_TIMEOUT_MS: int({ doc: 'A webhook delivery waits this long for the receiver\'s answer, then counts as failed and is retried.', default: '10000', min: 100, max: 120000 }),
  WEBHOOK_MAX_ATTEMPTS: int({ doc: 'Delivery attempts of one webhook event before it is given up.', default: '8', min: 1, max: 100 }),
  WEBHOOK_RETRY_BASE_MS: int({ doc: 'First retry delay of a failed webhook delivery; each further attempt doubles it (±25 % jitter).', default: '30000', min: 10, max: 3600000 }),
  WEBHOOK_RETRY_MAX_MS: int({ doc: 'Longest delay between two webhook delivery attempts.', default: '3600000', min: 10, max: 86400000 }),
  WEBHOOK_DISABLE_AFTER_DAYS: int({ doc: 'An endpoint whose every delivery has failed for good for this long (none succeeded since) is turned off, with the reason in its `disabled_reason`; turning it on again starts afresh. 0 → never.', default: '3', min: 0, max: 365, unit: 'days' }),
} as const satisfies Record<string, TSchema>;

export type ConfigKey = keyof typeof configSchema;

/** The parsed configuration, with derived paths resolved. */
export interface Config {
  port: number;
  host: string;
  /** `PUBLIC_URL`, or `http://localhost:<port>`; with `PORT=0` the start-up sets the picked port. */
  publicUrl: string;
  /** True when `PUBLIC_URL` is unset, so `publicUrl` follows the listening port. */
  publicUrlFromPort: boolean;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePool: number;
  /** `DATABASE_STATEMENT_TIMEOUT_MS`; 0: none. */
  databaseStatementTimeoutMs: number;
  pgliteSharedBuffers: number;
  redisUrl: string | undefined;
  storageDriver: 'fs' | 's3';
  s3: { endpoint?: string; region: string; bucket?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean; timeoutMs: number };
  jwtSecret: string | undefined;
  signingSecrets: string[] | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  inviteOnly: boolean;
  requireEmailVerification: boolean;
  /** Reuse interval of rotated refresh tokens (`REFRESH_REUSE_INTERVAL`), ms; 0 = none. */
  refreshReuseIntervalMs: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Origins a reset `redirect_to` may use besides `PUBLIC_URL`'s (`ALLOWED_REDIRECT_ORIGINS`). */
  allowedRedirectOrigins: string[];
  maxUploadBytes: number;
  promotedMaxUploadBytes: number;
  maxJsonBodyBytes: number;
  /** `UPLOAD_IDLE_TIMEOUT` in ms. */
  uploadIdleTimeoutMs: number;
  /** `ABANDONED_UPLOAD_AFTER` in ms. */
  abandonedUploadAfterMs: number;
  /** `MIN_FREE_DISK`. */
  minFreeDisk: { percent: number } | { bytes: number };
  storageQuotaBytes: number;
  maxFiles: number;
  allowedTypes: string[];
  transformPolicy: 'open' | 'presets' | 'signed';
  transformConcurrency: number;
  transformQueue: number;
  transformTimeoutMs: number;
  maxDimension: number;
  maxOutputPixels: number;
  maxInputPixels: number;
  maxAnimationFrames: number;
  autoAvif: boolean;
  rasterizeSvg: boolean;
  /** Video probing, posters and renditions (modules/video). */
  video: {
    ffmpegPath: string | undefined;
    ffprobePath: string | undefined;
    probeTimeoutMs: number;
    maxDurationS: number;
    maxPixels: number;
    maxOutputBytes: number;
    storedBytes: number;
    timeoutMs: number;
    concurrency: number;
  };
  cacheMemoryBytes: number;
  cacheDiskBytes: number;
  sourceCacheBytes: number;
  cacheDir: string;
  presets: string | undefined;
  rateLimits: Record<RateBucket, RateRule>;
  disableRateLimit: boolean;
  trustProxy: string | undefined;
  /** `Access-Control-Allow-Origin` of public delivery; null → none sent (`CORS_DELIVERY_ORIGIN=none`). */
  corsDeliveryOrigin: string | null;
  /** Origins allowed to call `/api` from a browser (`CORS_API_ORIGINS`); empty → none. */
  corsApiOrigins: string[];
  workers: number;
  shutdownTimeoutMs: number;
  metricsToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logRetentionDays: number;
  requestLogs: { enabled: boolean; bufferSize: number };
  queue: { concurrency: number; leaseMs: number; pollMs: number; retentionDays: number; deferMs: number };
  /** Remote sources (modules/remote). */
  remote: {
    enabled: boolean;
    allowHosts: string[] | undefined;
    signedOnly: boolean;
    maxBytes: number;
    timeoutMs: number;
    maxRedirects: number;
    cacheTtlMs: number;
    cacheBytes: number;
  };
  /** What outbound requests to client-chosen URLs may reach besides public addresses (lib/ssrf.ts). */
  outbound: { allowPrivate: boolean; allowLoopback: boolean };
  webhooks: { timeoutMs: number; maxAttempts: number; retryBaseMs: number; retryMaxMs: number; disableAfterMs: number };
}

export const RATE_BUCKETS = [
  'public', 'transform', 'api', 'upload_count', 'upload_bytes', 'upload_concurrency',
  'login', 'login_ip', 'register', 'password_reset', 'sensitive', 'refresh', 'share_password',
] as const;
export type RateBucket = (typeof RATE_BUCKETS)[number];

/** Thrown by `loadConfig`; its message names every bad variable and what it allows. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function describeAllowed(schema: TSchema): string {
  if (typeof schema['x-allowed'] === 'string') return schema['x-allowed'];
  switch (schema['x-env-kind'] as Kind) {
    case 'int': return `an integer from ${schema.minimum} to ${schema.maximum}${schema['x-unit'] ? ` (${schema['x-unit']})` : ''}`;
    case 'bool': return '`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)';
    case 'bytes': return `a byte size such as \`512MiB\`, \`1GB\` or \`1048576\` (whole bytes; at least ${schema.minimum === 0 ? '0' : formatBytes(schema.minimum as number)}${schema.maximum !== undefined ? `, at most ${formatBytes(schema.maximum as number)}` : ''})`;
    case 'url': return 'a URL such as `scheme://host`';
    case 'enum': return `one of ${(schema.anyOf as TSchema[]).map((s) => `\`${s.const}\``).join(', ')}`;
    case 'list': return 'a non-empty comma-separated list';
    case 'origins': return 'a comma-separated list of origins such as `https://app.example.com` (no path, credentials or wildcard)';
    case 'rate': return 'a limit `<max>/<window>`: a whole number per a window in whole s, m, h or d, such as `5/15m`';
    case 'byterate': return 'a limit `<bytes>/<window>` such as `10GiB/1h` (window in whole s, m, h or d)';
    case 'concurrency': return 'a positive integer';
    default: return 'a non-empty string';
  }
}

/**
 * An origin as browsers send it in `Origin`: lower-case, no trailing slash, no default port, an
 * IDN host in punycode (`https://App.Example.com:443/` and `https://bücher.de` matched no
 * request). Anything with credentials or a wildcard is left as written, for the pattern to refuse.
 */
function asOrigin(text: string): string {
  const trimmed = text.trim().replace(/\/+$/, '');
  if (/[@*]/.test(trimmed)) return trimmed;
  try {
    const u = new URL(trimmed);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !u.search && !u.hash) return u.origin;
  } catch {
    // not a URL: the pattern refuses it
  }
  return trimmed.toLowerCase();
}

function convert(kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'int': return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    case 'bool': {
      const v = raw.trim().toLowerCase();
      return ['true', '1', 'yes', 'on'].includes(v) ? true : ['false', '0', 'no', 'off'].includes(v) ? false : raw;
    }
    case 'bytes': return parseBytes(raw) ?? raw;
    case 'list': return raw.split(',').map((s) => s.trim()).filter(Boolean);
    // Origins compare as browsers send them (see asOrigin).
    case 'origins': return raw.split(',').map((s) => asOrigin(s)).filter(Boolean);
    case 'origin': return asOrigin(raw);
    // Values are lower-case words; `S3` and `INFO` mean what they say.
    case 'enum': return raw.trim().toLowerCase();
    case 'rate': return parseRateRule(raw) ?? raw;
    case 'byterate': return parseRateRule(raw, false, true) ?? raw;
    case 'concurrency': return parseRateRule(raw, true) ?? raw;
    case 'space': {
      const share = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(raw);
      if (share) return { percent: Number(share[1]) };
      const bytes = parseBytes(raw);
      return bytes === null ? raw : { bytes };
    }
    case 'url': return raw.trim().replace(/\/+$/, '').replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, (scheme) => scheme.toLowerCase());
    default: return raw;
  }
}

/** Reads and validates every variable; throws `ConfigError` listing all problems at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(configSchema) as [string, TSchema][]) {
    const raw = env[name];
    const text = raw === undefined || raw.trim() === '' ? (schema.default as string | undefined) : raw;
    if (text === undefined) continue;
    // A space or line break around a name, token or path (a `.env` file's trailing space) is part
    // of the value: the token never matched, the path named no file. Said, not trimmed away.
    if (schema['x-env-kind'] === 'string' && name !== 'PRESETS' && text !== text.trim()) {
      problems.push(`${name} begins or ends with a space or line break, which would be part of its value: remove it`);
      continue;
    }
    const value = convert(schema['x-env-kind'] as Kind, text);
    if (!Value.Check(schema, value)) {
      const shown = schema['x-secret'] ? '(hidden)' : JSON.stringify(raw);
      problems.push(`${name} must be ${describeAllowed(schema)}; got ${shown}`);
      continue;
    }
    values[name] = value;
  }
  problems.push(...crossChecks(values, env));
  if (problems.length) throw new ConfigError(problems);

  // Every value was checked against its schema above; `never` lets each field take its declared type.
  const v = values as { [K in ConfigKey]: never };
  const dataDir = resolve(v.DATA_DIR);
  const rateLimits = Object.fromEntries(
    RATE_BUCKETS.map((b) => [b, v[`RATE_LIMIT_${b.toUpperCase()}` as ConfigKey] as RateRule]),
  ) as Record<RateBucket, RateRule>;
  return {
    port: v.PORT,
    host: v.HOST,
    publicUrl: v.PUBLIC_URL ?? `http://localhost:${v.PORT}`,
    publicUrlFromPort: v.PUBLIC_URL === undefined,
    dataDir,
    databaseUrl: v.DATABASE_URL,
    databasePool: v.DATABASE_POOL,
    databaseStatementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
    pgliteSharedBuffers: v.PGLITE_SHARED_BUFFERS,
    redisUrl: v.REDIS_URL,
    storageDriver: v.STORAGE_DRIVER,
    s3: {
      endpoint: v.S3_ENDPOINT,
      region: v.S3_REGION,
      bucket: v.S3_BUCKET,
      accessKeyId: v.S3_ACCESS_KEY_ID,
      secretAccessKey: v.S3_SECRET_ACCESS_KEY,
      forcePathStyle: v.S3_FORCE_PATH_STYLE,
      timeoutMs: v.S3_TIMEOUT_MS,
    },
    jwtSecret: v.JWT_SECRET,
    signingSecrets: v.SIGNING_SECRETS,
    adminEmail: v.ADMIN_EMAIL,
    adminPassword: v.ADMIN_PASSWORD,
    inviteOnly: v.INVITE_ONLY,
    requireEmailVerification: v.REQUIRE_EMAIL_VERIFICATION,
    refreshReuseIntervalMs: v.REFRESH_REUSE_INTERVAL * 1000,
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM,
    allowedRedirectOrigins: v.ALLOWED_REDIRECT_ORIGINS ?? [],
    maxUploadBytes: v.MAX_UPLOAD_BYTES,
    promotedMaxUploadBytes: v.PROMOTED_MAX_UPLOAD_BYTES,
    maxJsonBodyBytes: v.MAX_JSON_BODY_BYTES,
    uploadIdleTimeoutMs: v.UPLOAD_IDLE_TIMEOUT * 1000,
    abandonedUploadAfterMs: v.ABANDONED_UPLOAD_AFTER * 1000,
    minFreeDisk: v.MIN_FREE_DISK,
    storageQuotaBytes: v.STORAGE_QUOTA_BYTES,
    maxFiles: v.MAX_FILES,
    allowedTypes: v.ALLOWED_TYPES,
    transformPolicy: v.TRANSFORM_POLICY,
    transformConcurrency: v.TRANSFORM_CONCURRENCY || availableParallelism(),
    transformQueue: v.TRANSFORM_QUEUE,
    transformTimeoutMs: v.TRANSFORM_TIMEOUT_MS,
    maxDimension: v.MAX_DIMENSION,
    maxOutputPixels: v.MAX_OUTPUT_PIXELS,
    maxInputPixels: v.MAX_INPUT_PIXELS,
    maxAnimationFrames: v.MAX_ANIMATION_FRAMES,
    autoAvif: v.AUTO_AVIF,
    rasterizeSvg: v.RASTERIZE_SVG,
    video: {
      ffmpegPath: v.FFMPEG_PATH,
      ffprobePath: v.FFPROBE_PATH,
      probeTimeoutMs: v.VIDEO_PROBE_TIMEOUT_MS,
      maxDurationS: v.VIDEO_MAX_DURATION,
      maxPixels: v.VIDEO_MAX_PIXELS,
      maxOutputBytes: v.VIDEO_MAX_OUTPUT_BYTES,
      storedBytes: v.VIDEO_STORED_BYTES,
      timeoutMs: v.VIDEO_TIMEOUT_MS,
      concurrency: v.VIDEO_CONCURRENCY,
    },
    cacheMemoryBytes: v.CACHE_MEMORY_BYTES,
    cacheDiskBytes: v.CACHE_DISK_BYTES,
    sourceCacheBytes: v.SOURCE_CACHE_BYTES,
    cacheDir: v.CACHE_DIR ? resolve(v.CACHE_DIR) : join(dataDir, 'cache'),
    presets: v.PRESETS,
    rateLimits,
    disableRateLimit: v.DISABLE_RATE_LIMIT,
    trustProxy: v.TRUST_PROXY,
    corsDeliveryOrigin: v.CORS_DELIVERY_ORIGIN === 'none' ? null : v.CORS_DELIVERY_ORIGIN,
    corsApiOrigins: v.CORS_API_ORIGINS ?? [],
    workers: v.WORKERS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    metricsToken: v.METRICS_TOKEN,
    logLevel: v.LOG_LEVEL,
    logRetentionDays: v.LOG_RETENTION_DAYS,
    requestLogs: { enabled: v.REQUEST_LOGS, bufferSize: v.REQUEST_LOG_BUFFER },
    queue: { concurrency: v.QUEUE_CONCURRENCY, leaseMs: v.QUEUE_LEASE_MS, pollMs: v.QUEUE_POLL_MS, retentionDays: v.QUEUE_RETENTION_DAYS, deferMs: v.QUEUE_DEFER_MS },
    remote: {
      enabled: v.REMOTE_SOURCES,
      allowHosts: v.REMOTE_ALLOW_HOSTS,
      signedOnly: v.REMOTE_SIGNED_ONLY,
      maxBytes: v.REMOTE_MAX_BYTES,
      timeoutMs: v.REMOTE_TIMEOUT_MS,
      maxRedirects: v.REMOTE_MAX_REDIRECTS,
      cacheTtlMs: v.REMOTE_CACHE_TTL * 1000,
      cacheBytes: v.REMOTE_CACHE_BYTES,
    },
    outbound: { allowPrivate: v.OUTBOUND_ALLOW_PRIVATE, allowLoopback: v.OUTBOUND_ALLOW_LOOPBACK },
    webhooks: { timeoutMs: v.WEBHOOK_TIMEOUT_MS, maxAttempts: v.WEBHOOK_MAX_ATTEMPTS, retryBaseMs: v.WEBHOOK_RETRY_BASE_MS, retryMaxMs: v.WEBHOOK_RETRY_MAX_MS, disableAfterMs: v.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000 },
  };
}

/**
 * Environment variables that look like a mistyped setting (`MAX_UPLOAD_SIZE`, `RATE_LIMIT_LOGINS`,
 * a lower-case `max_upload_bytes`), each with the setting it most likely meant. Only names that
 * share their first two words with a setting, or are within two edits of one, are named: the
 * environment holds much else (`HOME`, other programs' variables), which stays unremarked.
 */
export function mistypedSettings(env: Record<string, string | undefined> = process.env): { name: string; meant: string }[] {
  const known = Object.keys(configSchema);
  const knownSet = new Set(known);
  const out: { name: string; meant: string }[] = [];
  for (const name of Object.keys(env)) {
    if (knownSet.has(name) || !name.includes('_')) continue;
    const head = name.toUpperCase().split('_').slice(0, 2).join('_');
    const family = known.filter((k) => k.split('_').slice(0, 2).join('_') === head);
    const meant = closestName(name, known) ?? (family.length === 1 ? family[0] : family.length > 1 ? closestName(name, family) ?? family[0] : undefined);
    if (meant !== undefined) out.push({ name, meant });
  }
  return out;
}

/** `loadConfig` for process entry points: a bad value prints the problems and exits 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

/** Rows of the README configuration table, generated from the schema. */
export function configTableMarkdown(): string {
  const rows = Object.entries(configSchema).map(([name, s]) => {
    const schema = s as TSchema;
    const def = String(schema['x-default-text']);
    const shown = def === 'unset' || def.startsWith('`') || def.includes(' ') ? def : `\`${def}\``;
    return `| \`${name}\` | ${shown} | ${schema.description} Allowed: ${describeAllowed(schema)}. |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
