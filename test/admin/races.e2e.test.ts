/**
 * An administrator's requests about one account, sent at once, on Postgres (PGlite runs one
 * statement at a time, so its answers cannot race): each gets its own answer, never a 500.
 * Creating invites for an account while deleting it deadlocked: the deletion locked the admin
 * rows, then the account; the invites' foreign keys locked the account, then the admin.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { json, makeTestApp, type TestApp } from '../helpers/app';
import { seedUser } from '../helpers/seed';

describe('admin requests racing on one account (Postgres)', () => {
  let h: TestApp;
  let admin: string;
  beforeAll(async () => {
    h = await makeTestApp({ db: 'postgres', env: { DISABLE_RATE_LIMIT: 'true' } });
    admin = (await seedUser(h.deps, { role: 'admin' })).key;
  });
  afterAll(() => h.close());

  test('ban, role, deletion and invites at once: no 5xx, each answer one of its own', async () => {
    const auth = { authorization: `Bearer ${admin}` };
    const seen: string[] = [];
    for (let round = 0; round < 30; round++) {
      const { id } = await seedUser(h.deps);
      const sent = {
        ban: h.request(`/api/admin/users/${id}/ban`, json('POST', { banned: true }, auth)),
        role: h.request(`/api/admin/users/${id}/role`, json('POST', { role: 'admin' }, auth)),
        deletion: h.request(`/api/admin/users/${id}/deletion`, { method: 'POST', headers: auth }),
        invites: h.request(`/api/admin/users/${id}/invites`, json('POST', { count: 2 }, auth)),
      };
      for (const [name, res] of Object.entries(sent)) {
        const r = await res;
        const text = await r.text();
        seen.push(`${name} ${r.status}${r.status >= 500 ? ` ${text.slice(0, 200)}` : ''}`);
      }
    }
    const allowed = new Set(['ban 200', 'ban 404', 'role 200', 'role 404', 'deletion 202', 'invites 201', 'invites 404']);
    expect(seen.filter((s) => !allowed.has(s))).toEqual([]);
  }, 120_000);
});
