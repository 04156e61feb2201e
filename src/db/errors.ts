/**
 * Postgres refusals a service answers as the client's mistake rather than a 500. Drizzle wraps
 * the driver's error (its `cause` holds the SQLSTATE), and PGlite and postgres.js nest it
 * differently, so the chain is walked.
 */
function hasCode(err: unknown, code: string): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.code === code) return true;
  return false;
}

/** 23505: a row with that key already exists. */
export const isUniqueViolation = (err: unknown): boolean => hasCode(err, '23505');

/** 23503: the row referred to is gone (deleted between a check and the write). */
export const isForeignKeyViolation = (err: unknown): boolean => hasCode(err, '23503');
