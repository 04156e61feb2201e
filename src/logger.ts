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
 * addresses, key and token hashes, file heads): its cause's words and code, and the start of the
 * statement, never the parameters.
 */
export function serializeError(err: unknown): unknown {
  const e = err as { name?: unknown; query?: unknown; params?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.query !== 'string' || !('params' in e)) return pino.stdSerializers.err(err as Error);
  const cause = e.cause as { message?: unknown; code?: unknown; stack?: unknown } | undefined;
  return {
    type: 'DrizzleQueryError',
    message: typeof cause?.message === 'string' ? cause.message : 'query failed',
    ...(typeof cause?.code === 'string' ? { code: cause.code } : {}),
    query: e.query.replace(/\s+/g, ' ').slice(0, QUERY_CHARS),
    ...(typeof cause?.stack === 'string' ? { stack: cause.stack } : {}),
  };
}
