/**
 * Start-up failures the operator fixes through a setting (`StartupError`): the port is
 * taken, the database is unreachable, `DATA_DIR` is not writable, the S3 bucket is missing.
 * `boot.ts` prints it as one fatal log line (message and `variable`, no stack) and exits
 * non-zero; anything else that fails at start-up is logged with its stack, as a bug.
 */
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Why the server cannot start, and the variable that fixes it. */
export class StartupError extends Error {
  constructor(
    message: string,
    /** The environment variable to set or fix. */
    readonly variable: string,
    /** The underlying error code (`EADDRINUSE`, `ECONNREFUSED`, `NoSuchBucket`…), when there is one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

/** The short code of a runtime, driver or SDK error (`err.code`, else its name), for a start-up message. */
export function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; name?: unknown } | null;
  if (typeof e?.code === 'string' && e.code) return e.code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  return undefined;
}

/** `code: message` of an error, without its stack, for the end of a start-up message. */
export function errorSummary(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Creates `dir` if needed and proves it writable by writing and removing a probe file: mode
 * bits alone do not tell (root ignores them; a read-only mount does not).
 */
export async function ensureWritableDir(dir: string, variable: string): Promise<void> {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await unlink(probe);
  } catch (err) {
    throw new StartupError(
      `${variable} "${dir}" is not a writable directory (${errorSummary(err)}): set ${variable} to a directory this process can create and write`,
      variable,
      errorCode(err),
    );
  }
}
