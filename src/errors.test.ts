import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Elysia, t } from 'elysia';
import { json, makeTestApp, type TestApp } from '../test/helpers/app';
import { databaseUnavailable, errorText, isConnectionLost, isDatabaseUnavailable } from './errors';

describe('error envelope (API.md §1)', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp();
    // Throwaway routes that exercise the mapper: a schema, and a handler that throws.
    h.app.use(
      new Elysia()
        .post('/__test/echo', ({ body }) => body, { body: t.Object({ name: t.String({ minLength: 2 }), n: t.Integer() }) })
        .post('/__test/count', ({ body }) => body, { body: t.Object({ count: t.Optional(t.Integer({ minimum: 1, maximum: 50 })), at_least: t.Optional(t.Integer({ minimum: 60 })) }) })
        .post('/__test/words', ({ body }) => body, {
          body: t.Object({ role: t.Optional(t.Union([t.Literal('user'), t.Literal('admin')])), exp: t.Optional(t.Union([t.Integer({ minimum: 60, maximum: 100 }), t.Null()])), pw: t.Optional(t.String({ minLength: 8 })), label: t.Optional(t.Union([t.String({ maxLength: 10 }), t.Null()])), until: t.Optional(t.Union([t.String({ format: 'date-time' }), t.Null()])) }),
        })
        .get('/__test/words/:id', ({ params }) => params, {
          params: t.Object({ id: t.String({ format: 'uuid' }) }),
          query: t.Object({ period: t.Optional(t.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'Calendar month `YYYY-MM`; default the current one.' })), since: t.Optional(t.String({ format: 'date-time' })) }),
        })
        .get('/__test/query', ({ query }) => query, {
          query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })), page: t.Optional(t.Integer({ minimum: 1 })), flag: t.Optional(t.Boolean()), sort: t.Optional(t.UnionEnum(['name', '-name'])), q: t.Optional(t.String()) }),
        })
        .post('/__test/list', ({ body }) => body, {
          body: t.Object({ some: t.Optional(t.Array(t.String(), { minItems: 1, maxItems: 3, uniqueItems: true })), few: t.Optional(t.Array(t.String(), { maxItems: 1 })) }),
        })
        .get('/__test/boom', () => {
          throw new Error('secret SQL: select * from users');
        }),
    );
  });
  afterAll(() => h.close());

  test('unknown route → 404 NOT_FOUND with the envelope and a request id', async () => {
    const res = await h.request('/no/such/thing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ error: 'NOT_FOUND', message: 'No route for GET /no/such/thing.' });
  });

  test('wrong method on a known path → 405 with Allow', async () => {
    const res = await h.request('/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const body = (await res.json()) as { error: string; details: { allowed: string[] } };
    expect(body.error).toBe('METHOD_NOT_ALLOWED');
    expect(body.details.allowed).toEqual(['GET', 'HEAD']);
  });

  test('malformed JSON → 400 VALIDATION_ERROR', async () => {
    const res = await h.request('/__test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; details: { fields: unknown[] } };
    expect(body.error).toBe('VALIDATION_ERROR');
    expect(body.message).toContain('not valid JSON');
    // Pictor's words, the same on every runtime (Bun's read "JSON Parse error: Unexpected EOF", Deno's "Unexpected end of JSON input").
    expect(body.details.fields).toEqual([{ path: '/', message: 'ends before the JSON does' }]);
    const broken = await h.request('/__test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": "x",}' });
    expect(((await broken.json()) as { details: { fields: unknown[] } }).details.fields).toEqual([{ path: '/', message: 'is not valid JSON (check quotes, commas and brackets)' }]);
  });

  test('a JSON body that is not an object → 400 (`[]` passed an all-optional schema: 200, nothing changed)', async () => {
    for (const [text, got] of [['[]', 'an array'], ['["count"]', 'an array'], ['null', 'null'], ['3', 'number'], ['"x"', 'string']] as const) {
      const res = await h.request('/__test/count', { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: 'VALIDATION_ERROR', message: 'The request body must be a JSON object.', details: { fields: [{ path: '/', message: `got ${got}` }] },
      });
    }
    expect((await h.request('/__test/count', json('POST', {}))).status).toBe(200);
  });

  test('schema failure → 400 with every failing field in details.fields', async () => {
    const res = await h.request('/__test/echo', json('POST', { name: 'x', n: 'seven' }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; details: { fields: { path: string; message: string }[] } };
    expect(body.error).toBe('VALIDATION_ERROR');
    const paths = body.details.fields.map((f) => f.path);
    expect(paths).toContain('/name');
    expect(paths).toContain('/n');
  });

  test('a missing field or one of the wrong kind is told without repeating the value (it read "Expected property \'pw\' to be string but found: 12345678", echoing a password)', async () => {
    const wrong = await h.request('/__test/words', json('POST', { pw: 12345678, label: ['x'] }));
    const out = (await wrong.json()) as { message: string; details: { fields: { path: string; message: string }[] } };
    expect(out.details.fields.find((f) => f.path === '/pw')?.message).toBe('must be text');
    expect(JSON.stringify(out)).not.toContain('12345678');
    const missing = await h.request('/__test/echo', json('POST', { name: 'xy' }));
    expect(((await missing.json()) as { details: { fields: { path: string; message: string; in?: string }[] } }).details.fields).toEqual([{ path: '/n', message: 'is required', in: 'body' }]);
  });

  test('a list out of its rule is told in words (it read "Expected array length to be greater or equal to 1", "Expected array elements to be unique")', async () => {
    for (const [body, path, message] of [
      [{ some: [] }, '/some', 'must list 1 to 3 items'],
      [{ some: ['a', 'b', 'c', 'd'] }, '/some', 'must list 1 to 3 items'],
      [{ some: ['a', 'a'] }, '/some', 'must not list an item twice'],
      [{ few: ['a', 'b'] }, '/few', 'must list at most 1 item'],
    ] as const) {
      const res = await h.request('/__test/list', json('POST', body));
      expect(res.status).toBe(400);
      const got = (await res.json()) as { message: string; details: { fields: { path: string; message: string; in: string }[] } };
      expect([got.details.fields, got.message]).toEqual([[{ path, message, in: 'body' }], `Invalid body: ${path} ${message}`]);
    }
  });

  test('a number out of its rule is named with the rule (it read "should be one of: \'integer\', \'integer\'")', async () => {
    for (const [body, path, message] of [
      [{ count: 0 }, '/count', 'must be a whole number from 1 to 50'],
      [{ count: 'many' }, '/count', 'must be a whole number from 1 to 50'],
      [{ count: 2.5 }, '/count', 'must be a whole number from 1 to 50'],
      [{ at_least: 5 }, '/at_least', 'must be a whole number of at least 60'],
    ] as const) {
      const res = await h.request('/__test/count', json('POST', body));
      expect(res.status).toBe(400);
      const got = (await res.json()) as { message: string; details: { fields: { path: string; message: string; in: string }[] } };
      expect([got.details.fields[0], got.message]).toEqual([{ path, message, in: 'body' }, `Invalid body: ${path} ${message}`]);
    }
  });

  test('query rules in words, naming the parameter (they read "/ Expected integer to be greater or equal to 1", "should be one of: \'boolean\', \'boolean\'", "Expected kind \'UnionEnum\'")', async () => {
    for (const [q, path, message] of [
      ['limit=0', '/limit', 'must be a whole number from 1 to 200'],
      ['limit=201', '/limit', 'must be a whole number from 1 to 200'],
      ['limit=abc', '/limit', 'must be a whole number from 1 to 200'],
      ['page=0&limit=5', '/page', 'must be a whole number of at least 1'],
      ['flag=yes', '/flag', 'must be true or false'],
      ['sort=size', '/sort', 'must be one of: name, -name'],
    ] as const) {
      const res = await h.request(`/__test/query?${q}`);
      expect(res.status).toBe(400);
      const got = (await res.json()) as { message: string; details: { fields: { path: string; message: string; in: string }[] } };
      expect([q, got.details.fields[0], got.message]).toEqual([q, { path, message, in: 'query' }, `Invalid query: ${path} ${message}`]);
    }
    // Two parameters with the failing value: no guess at which, but still the rule.
    const both = (await (await h.request('/__test/query?page=0&limit=0')).json()) as { details: { fields: { path: string; message: string }[] } };
    expect(both.details.fields[0]!.path).toBe('/');
    // A text parameter holding the same digits is no candidate (`limit=999&q=999` named neither).
    const text = (await (await h.request('/__test/query?limit=999&q=999')).json()) as { details: { fields: { path: string; message: string }[] } };
    expect(text.details.fields[0]!.path).toBe('/limit');
  });

  test('choices, nullable numbers, formats, lengths and patterns in words (TypeBox said "should be one of: \'string\', \'string\'", "should be one of: \'undefined\', \'null\'", "should be uuid", a regular expression)', async () => {
    const cases: [string, RequestInit, string, string][] = [
      ['/__test/words', json('POST', { role: 'root' }), '/role', 'must be one of: user, admin'],
      ['/__test/words', json('POST', { exp: 59 }), '/exp', 'must be a whole number from 60 to 100, or null'],
      ['/__test/words', json('POST', { pw: 'short' }), '/pw', 'must be at least 8 characters long'],
      // A nullable text: it read "should be one of: 'string', 'null'" (an API key's name of 200 characters).
      ['/__test/words', json('POST', { label: 'x'.repeat(11) }), '/label', 'must be text of at most 10 characters, or null'],
      // A nullable date: it read "must be text or null" for `tomorrow`, which is text (a key's expires_at).
      ['/__test/words', json('POST', { until: 'tomorrow' }), '/until', 'must be a date and time in ISO 8601, such as 2026-12-05T10:00:00Z, or null'],
      ['/__test/words/nope', {}, '/id', 'must be a UUID'],
      ['/__test/words/00000000-0000-4000-8000-000000000000?since=yesterday', {}, '/since', 'must be a date and time in ISO 8601, such as 2026-12-05T10:00:00Z'],
      ['/__test/words/00000000-0000-4000-8000-000000000000?period=2026-13', {}, '/period', 'has the wrong form: expected Calendar month `YYYY-MM`'],
    ];
    for (const [url, init, path, message] of cases) {
      const res = await h.request(url, init);
      expect(res.status).toBe(400);
      const got = (await res.json()) as { details: { fields: { path: string; message: string }[] } };
      expect([url, got.details.fields[0]?.path, got.details.fields[0]?.message]).toEqual([url, path, message]);
    }
  });

  test('a number field takes a JSON number, not text ("0x100" was stored as 256, "1e3" as 1000)', async () => {
    for (const [body, path] of [[{ count: '0x10' }, '/count'], [{ count: ' 7 ' }, '/count'], [{ exp: '1e2' }, '/exp']] as const) {
      const res = await h.request(body === undefined ? '' : path === '/exp' ? '/__test/words' : '/__test/count', json('POST', body));
      expect(res.status).toBe(400);
      const got = (await res.json()) as { details: { fields: { path: string; in: string }[] } };
      expect(got.details.fields[0]).toMatchObject({ path, in: 'body' });
    }
    expect((await h.request('/__test/count', json('POST', { count: 7 }))).status).toBe(200);
    expect((await h.request('/__test/words', json('POST', { exp: null }))).status).toBe(200);
  });

  test('a non-JSON body on a JSON route → 415, never buffered by a default parser', async () => {
    const res = await h.request('/__test/echo', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(10) });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      error: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'This route takes application/json, not application/octet-stream.',
      details: { detected: 'application/octet-stream' },
    });
  });

  test('a valid body passes through', async () => {
    const res = await h.request('/__test/echo', json('POST', { name: 'ok', n: 3 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'ok', n: 3 });
  });

  test('oversized JSON body → 413 before reading it (Content-Length) and while reading (chunked)', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), n: 1 });
    const byLength = await h.request('/__test/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    expect(byLength.status).toBe(413);
    expect(((await byLength.json()) as { error: string }).error).toBe('FILE_TOO_LARGE');

    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 100) return controller.close();
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const chunked = await h.request('/__test/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // The reader stopped soon after crossing 1 MiB instead of draining all 6.4 MB.
    expect(pulled).toBeLessThan(40);
  });

  test('unexpected throw → 500 INTERNAL_ERROR with request_id and no internals', async () => {
    const res = await h.request('/__test/boom', { headers: { 'x-request-id': 'trace-123' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    const text = await res.text();
    expect(text).not.toContain('secret SQL');
    expect(text).not.toContain('at ');
    expect(JSON.parse(text)).toEqual({
      error: 'INTERNAL_ERROR',
      message: 'Something went wrong on our side.',
      details: { request_id: 'trace-123' },
    });
  });

  test('an insane X-Request-Id is replaced, not echoed', async () => {
    const res = await h.request('/health', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(res.headers.get('x-request-id')).not.toContain(' ');
  });
});

describe('logs carry the request id', () => {
  test('a 500 is logged with the cause and the id the client saw; every request gets an access line at debug', async () => {
    const lines: Record<string, unknown>[] = [];
    const h = await makeTestApp({ logLines: lines });
    try {
      h.app.use(
        new Elysia().get('/__test/boom', () => {
          throw new Error('disk on fire');
        }),
      );
      const res = await h.request('/__test/boom');
      const id = res.headers.get('x-request-id');
      expect(res.status).toBe(500);
      const errorLine = lines.find((l) => l.msg === 'unhandled error');
      expect(errorLine?.request_id).toBe(id);
      expect(JSON.stringify(errorLine)).toContain('disk on fire');
      // /health takes no query parameter (400), but the request is logged, and without its query.
      const refused = await h.request('/health?token=secret');
      await new Promise<void>((r) => setImmediate(r)); // afterResponse runs on setImmediate, after the response is handed back
      const access = lines.filter((l) => l.msg === 'request');
      const healthLine = access.find((l) => l.request_id === refused.headers.get('x-request-id'));
      expect(healthLine).toMatchObject({ method: 'GET', path: '/health', status: 400 });
      expect(JSON.stringify(access)).not.toContain('secret');
    } finally {
      await h.close();
    }
  });
});


test('a database outage is told by where the error came from, not by its code alone', () => {
  const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  // A query's error (postgres.js gives it its `query`), Drizzle's wrapping, a transaction's lost connection.
  const fromQuery = Object.assign(reset(), { query: 'select 1' });
  const wrapped = Object.assign(new Error('Failed query: select 1'), { name: 'DrizzleQueryError', query: 'select 1', params: [], cause: reset() });
  const closed = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
  const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { name: 'PostgresError', code: '57P01' });
  const timeout = Object.assign(new Error('canceling statement due to statement timeout'), { name: 'PostgresError', code: '57014' });
  const missing = Object.assign(new Error('relation "x" does not exist'), { name: 'PostgresError', code: '42P01' });
  // A database silent past the deadline (our postgres.js patch's code): its COMMIT may have landed.
  const silent = Object.assign(new Error('write ANSWER_TIMEOUT 127.0.0.1:5432'), { code: 'ANSWER_TIMEOUT' });
  expect([fromQuery, wrapped, closed, shutdown, timeout, silent].map(isDatabaseUnavailable)).toEqual([true, true, true, true, true, true]);
  expect(isConnectionLost(silent)).toBe(true);
  expect(databaseUnavailable(silent).message).toContain('DATABASE_STATEMENT_TIMEOUT_MS');
  // An S3 body cut off, or a bug's SQL error: not the database being away.
  expect([reset(), missing].map(isDatabaseUnavailable)).toEqual([false, false]);
  // Only a lost connection leaves a COMMIT's fate unknown (its bytes are kept); a timeout or a refusal does not.
  expect([wrapped, closed, shutdown, timeout, Object.assign(new Error('x'), { code: 'ECONNREFUSED', query: 'begin' })].map(isConnectionLost)).toEqual([true, true, true, false, false]);
  expect(databaseUnavailable(timeout).message).toContain('DATABASE_STATEMENT_TIMEOUT_MS');
  expect(errorText(wrapped)).toBe('read ECONNRESET');
});
