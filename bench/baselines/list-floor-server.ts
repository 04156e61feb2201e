/**
 * Baseline: the least any server can do to answer the file list's default page on Postgres. A
 * minimal `Bun.serve` runs Pictor's own statements (src/modules/files/list-query.ts, with the
 * same pool size and prepared by postgres.js as Pictor's are) and sends the text they return
 * in the same envelope, with the same cursor, written as Pictor's server writes it (in one `send()`:
 * src/platform/small-body.ts). It has no authentication, rate limit, routing,
 * request log or query builder, so Pictor's p95 against it is what Pictor's own work costs.
 * argv: <database url> <user id> <public url> <pool size (Pictor's `DATABASE_POOL`)>.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Db } from '../../src/db/client';
import { preparedList } from '../../src/modules/files/list-query';
import { inOneWrite } from '../../src/platform/small-body';

const [url, user, base, pool] = process.argv.slice(2) as [string, string, string, string];
const client = postgres(url, { max: Number(pool), onnotice: () => {} });
const p = preparedList(drizzle({ client }) as unknown as Db);
/** A statement's text and the names of its parameters, in order. */
const shape = (q: { sql: string; params: unknown[] }) => ({ text: q.sql, names: q.params.map((x) => (x as { name: string }).name) });
const first = shape(p.first.getQuery());
const after = shape(p.after.getQuery());

/** The statements' columns, in order (Drizzle reads them by position too). */
type Row = [files: string, more: boolean, lastKey: string | null, lastId: string | null, count: number];

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    const cursor = new URL(req.url).searchParams.get('cursor');
    const values: Record<string, unknown> = { user, now: new Date().toISOString(), limit: 50, base };
    if (cursor) [values.at, values.id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const s = cursor ? after : first;
    const [row] = (await client.unsafe(s.text, s.names.map((n) => values[n]) as never[], { prepare: true }).values()) as unknown as Row[];
    if (!row) return new Response('no such user', { status: 404 });
    const [files, more, lastKey, lastId, count] = row;
    // Pictor's cursor names its sort (files/service.ts `encodeCursor`), the default one here.
    const next = more ? Buffer.from(JSON.stringify([lastKey, lastId, '-created_at'])).toString('base64url') : null;
    const text = `{"results":${files},"count":${count},"next_cursor":${next ? `"${next}"` : 'null'}}`;
    return inOneWrite(new Response(text, { headers: { 'content-type': 'application/json;charset=utf-8', 'content-length': String(Buffer.byteLength(text)) } }));
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
