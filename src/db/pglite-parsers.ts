/**
 * Drizzle's PGlite driver passes the same type parsers with every query (timestamps, dates and
 * intervals and their arrays kept as text). PGlite then merges them into a copy of its whole
 * parser table for each result, a visible share of a list page's CPU (docs/TUNING.md, "Embedded
 * PGlite"). Here the parsers are set once on the instance, and each query's options reach PGlite
 * without them: the same parsers apply, and nothing is copied per query. Any other per-query
 * parser still goes through, copy and all.
 *
 * Written here rather than upstream: drizzle builds the option per prepared query and PGlite
 * copies on any per-query parser, so neither side alone can avoid it.
 */
import { types, type PGlite, type Transaction } from '@electric-sql/pglite';
import { namedStatements } from './pglite-named';

const asText = (value: string) => value;

/** The parsers drizzle-orm/pglite sends with every query (its session.js), by type oid. */
export const DRIZZLE_PARSERS: Record<number, (value: string) => string> = {
  [types.TIMESTAMP]: asText,
  [types.TIMESTAMPTZ]: asText,
  [types.INTERVAL]: asText,
  [types.DATE]: asText,
  1231: asText, // numeric[]
  1115: asText, // timestamp[]
  1185: asText, // timestamptz[]
  1187: asText, // interval[]
  1182: asText, // date[]
};

type Queryable = Pick<PGlite, 'query'> | Transaction;
type QueryOptions = Parameters<PGlite['query']>[2];

/** Whether every parser in `parsers` is one the instance already applies (drizzle's own). */
function onlyDrizzles(parsers: Record<number, unknown>): boolean {
  for (const oid in parsers) if (!(oid in DRIZZLE_PARSERS)) return false;
  return true;
}

/** Options without drizzle's per-query parsers, once the instance applies the same ones. */
function withoutParsers(options: QueryOptions): QueryOptions {
  if (!options?.parsers || !onlyDrizzles(options.parsers)) return options;
  const { parsers: _same, ...rest } = options;
  return rest;
}

/**
 * `target` with `query` (and, for the instance, `transaction`'s queries) stripped of per-query
 * parsers; on the instance, a registered statement runs as a named one (pglite-named.ts).
 */
function stripping<T extends Queryable>(target: T, named?: ReturnType<typeof namedStatements>): T {
  return new Proxy(target, {
    get(t, key) {
      if (key === 'query') {
        return (q: string, params?: unknown[], options?: QueryOptions) => {
          const stripped = withoutParsers(options);
          return named?.(q, params, stripped) ?? t.query(q, params, stripped);
        };
      }
      if (key === 'transaction' && 'transaction' in t && typeof t.transaction === 'function') {
        const pg = t as unknown as PGlite;
        return <R>(callback: (tx: Transaction) => Promise<R>) => pg.transaction((tx) => callback(stripping(tx)));
      }
      const value: unknown = Reflect.get(t, key, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * Sets drizzle's parsers on `client` (after it started: PGlite fills in its array types while
 * starting) and returns the client to hand drizzle.
 */
export function forDrizzle(client: PGlite): PGlite {
  Object.assign(client.parsers, DRIZZLE_PARSERS);
  return stripping(client, namedStatements(client));
}
