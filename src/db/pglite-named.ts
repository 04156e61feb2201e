/**
 * Hot statements on PGlite as named prepared statements with a reused (generic) plan.
 *
 * PGlite's `query` sends every statement unnamed, in five trips into the WASM backend (parse,
 * describe, bind, describe, execute, then sync), and Postgres plans it again on each bind; the
 * planner asks the file system for the size of the table and of each of its indexes, about 26
 * file-size checks for a page of `GET /api/files`. For a statement registered here, the first use parses
 * and describes it once under its name; every later use binds, describes, executes and syncs in
 * one trip, on the plan made the first time (docs/TUNING.md, "The file list").
 *
 * Postgres would keep re-planning a statement whose generic plan it estimates costlier, as it
 * does for the list's (measured: a custom plan on every call, with `limit $n` as with a literal
 * limit). `openPglite` therefore sets
 * `plan_cache_mode = force_generic_plan`, which applies to named statements only: PGlite's own
 * queries stay unnamed and are planned per call, as before. So register only statements whose
 * generic plan is the one wanted (`pglite-named.test.ts` shows the list's plans).
 *
 * Written here because PGlite has no prepared-statement API; it uses PGlite's exported protocol
 * serializer and result parser, and its query locks (`_runExclusiveTransaction`,
 * `_runExclusiveQuery`), so it waits for open transactions exactly as `query` does.
 */
import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';

type QueryOptions = Parameters<PGlite['query']>[2];

/** SQL text → statement name, and name → text, for every database opened in this process. */
const registered = new Map<string, string>();
const texts = new Map<string, string>();

/**
 * Runs `text` as the named statement `name` on PGlite (a no-op on Postgres, whose driver prepares
 * every statement itself). Call it before the first query with that text; a name stands for one
 * text and a text for one name.
 */
export function registerNamedStatement(name: string, text: string): void {
  const other = registered.get(text);
  if (other !== undefined && other !== name) throw new Error(`statement already registered as ${other}`);
  const known = texts.get(name);
  if (known !== undefined && known !== text) throw new Error(`statement name ${name} already stands for another text`);
  registered.set(text, name);
  texts.set(name, text);
}

/** Per PGlite instance (its one session): statement name → parameter type oids, once parsed. */
const parsedBy = new WeakMap<PGlite, Map<string, number[]>>();

function parsedOn(client: PGlite): Map<string, number[]> {
  let parsed = parsedBy.get(client);
  if (!parsed) {
    parsed = new Map();
    parsedBy.set(client, parsed);
  }
  return parsed;
}

/**
 * A runner for `client`: the result of a registered statement, or null for any other text, or
 * for options only `query` handles (the caller then uses `query`). Not for use inside a
 * transaction: it waits for the transaction to end.
 */
export function namedStatements(client: PGlite) {
  const s = protocol.serialize;
  const parsed = parsedOn(client);

  async function prepare(name: string, text: string): Promise<number[]> {
    const { messages } = await client.execProtocol(Buffer.concat([s.parse({ name, text, types: [] }), s.describe({ type: 'S', name }), s.sync()]));
    const types = parse.parseDescribeStatementResults(messages);
    parsed.set(name, types);
    return types;
  }

  return function run<T>(text: string, params: unknown[] | undefined, options: QueryOptions): Promise<Results<T>> | null {
    const name = registered.get(text);
    // Options that shape the parse or carry a blob are `query`'s to honour: it runs as before.
    if (name === undefined || options?.paramTypes || options?.blob) return null;
    return client._runExclusiveTransaction(() => client._runExclusiveQuery(async () => {
      const types = parsed.get(name) ?? await prepare(name, text);
      // Serialised as `query` does: by the query's or the instance's serializer for the
      // parameter's type, else as text.
      const values = (params ?? []).map((v, i) => {
        if (v === null || v === undefined) return null;
        const serialize = options?.serializers?.[types[i]!] ?? client.serializers[types[i]!];
        return serialize ? serialize(v) : String(v);
      });
      const { messages } = await client.execProtocol(Buffer.concat([s.bind({ statement: name, values }), s.describe({ type: 'P' }), s.execute({}), s.sync()]));
      return parse.parseResults(messages, client.parsers, options)[0] as Results<T>;
    }));
  };
}
