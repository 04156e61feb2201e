/**
 * PATCH /api/auth/api-keys/:id with nothing to change (found by the fuzz test, issue #17): an
 * empty body built an UPDATE without a SET and answered 500. It answers the key unchanged,
 * and 404 for a key that is not the caller's, like any other patch.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';

describe.each(DB_BACKENDS)('PATCH /api/auth/api-keys/:id on %s', (db) => {
  let h: TestApp;
  let bearer: Record<string, string>;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', REQUEST_LOGS: 'false' } });
    const res = await h.request('/api/auth/register', json('POST', { email: 'keys@example.com', password: 'password 123' }));
    expect(res.status).toBe(201);
    bearer = { authorization: `Bearer ${((await res.json()) as { session: { access_token: string } }).session.access_token}` };
  }, 60_000);
  afterAll(() => h.close());

  test('an empty patch answers the key unchanged; an unknown id is 404', async () => {
    const created = await h.request('/api/auth/api-keys', json('POST', { name: 'ci', scopes: ['files:read'] }, bearer));
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; name: string; scopes: string[] };
    const res = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', {}, bearer));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: key.id, name: 'ci', scopes: ['files:read'] });
    const unknown = await h.request('/api/auth/api-keys/00000000-0000-4000-8000-000000000000', json('PATCH', {}, bearer));
    expect(unknown.status).toBe(404);
    // A real change still applies.
    const renamed = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', { name: 'deploy' }, bearer));
    expect(((await renamed.json()) as { name: string }).name).toBe('deploy');
  });

  test('a name is stored without surrounding spaces; a blank one is none (it listed as an empty heading); over 100 characters says the rule', async () => {
    const spaced = await h.request('/api/auth/api-keys', json('POST', { name: '  nightly sync  ', scopes: ['files:read'] }, bearer));
    const key = (await spaced.json()) as { id: string; name: string | null };
    expect(key.name).toBe('nightly sync');
    const blank = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', { name: '   ' }, bearer));
    expect(((await blank.json()) as { name: string | null }).name).toBeNull();
    const long = await h.request('/api/auth/api-keys', json('POST', { name: 'x'.repeat(200) }, bearer));
    expect(long.status).toBe(400);
    expect(((await long.json()) as { details: { fields: { path: string; message: string; in: string }[] } }).details.fields[0]).toEqual({ path: '/name', message: 'must be text of at most 100 characters, or null', in: 'body' });
  });
});
