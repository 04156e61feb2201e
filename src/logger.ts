/** Structured JSON logs (pino). One root logger per process; request logs carry `request_id`. */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `destination` defaults to stdout; tests pass a stream to read what was logged. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Secrets never reach the log even if someone logs a whole header map.
    redact: { paths: ['*.authorization', '*["x-api-key"]', '*.cookie', '*.password'], censor: '[redacted]' },
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A statement's text kept in the log: enough to know which one failed. */
const QUERY_CHARS = 300;

/**
 * Errors as pino's standard serializer writes them, except a failed query (Drizzle's
 * `DrizzleQueryError`, whose message repeats the statement and its parameters: e-mail
 * addresses, key and token hashes, file heads), wherever it is in the cause chain: its cause's
 * words and code, and the start of the statement, never the parameters.
 */
export function serializeError(err: unknown): unknown {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown; query?: unknown; params?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return err;
  if (typeof e.query === 'string' && 'params' in e) {
    const cause = e.cause as { message?: unknown; code?: unknown; stack?: unknown } | undefined;
    return {
      type: 'DrizzleQueryError',
      message: typeof cause?.message === 'string' ? cause.message : 'query failed',
      ...(typeof cause?.code === 'string' ? { code: cause.code } : {}),
      query: e.query.replace(/\s+/g, ' ').slice(0, QUERY_CHARS),
      ...(typeof cause?.stack === 'string' ? { stack: cause.stack } : {}),
    };
  }
  // pino's serializer appends every cause's message to this one's: a query deeper down is written here instead.
  if (hasQueryCause(e.cause)) {
    return { type: e.constructor?.name ?? 'Error', message: String(e.message), stack: String(e.stack), cause: serializeError(e.cause) };
  }
  return pino.stdSerializers.err(err as Error);
}

function hasQueryCause(err: unknown, depth = 0): boolean {
  const e = err as { query?: unknown; params?: unknown; cause?: unknown } | null | undefined;
  if (!e || typeof e !== 'object' || depth > 4) return false;
  return (typeof e.query === 'string' && 'params' in e) || hasQueryCause(e.cause, depth + 1);
}
