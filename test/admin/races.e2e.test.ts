/**
 * An administrator's requests about one account, sent at once, on Postgres (PGlite runs one
 * statement at a time, so its answers cannot race): each gets its own answer, never a 500.
 * Creating invites for an account while deleting it deadlocked: the deletion locked the admin
 * rows, then the account; the invites' foreign keys locked the account, then the admin. Two
 * administrators demoting each other at once both passed, and the server had none.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { createApiKey } from '../../src/modules/keys/service';
import { json, makeTestApp, type TestApp } from '../helpers/app';
import { seedUser } from '../helpers/seed';
import { until } from '../helpers/until';

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

describe('the last two administrators removing each other at once (Postgres)', () => {
  let h: TestApp;
  let sql: postgres.Sql;
  beforeAll(async () => {
    h = await makeTestApp({ db: 'postgres', env: { DISABLE_RATE_LIMIT: 'true' } });
    sql = postgres(h.deps.config.databaseUrl!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await h?.close();
  });

  const admins = async () => ((await sql`select count(*)::int as n from users where role = 'admin' and not is_banned`) as unknown as { n: number }[])[0]!.n;
  const waiting = async () => ((await sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`) as unknown as { n: number }[])[0]!.n;

  for (const action of ['demote', 'ban'] as const) {
    test(`${action}: one of the two is refused (409) and an administrator stays`, async () => {
      const a = await seedUser(h.deps, { role: 'admin' });
      const b = await seedUser(h.deps, { role: 'admin' });
      expect(await admins()).toBe(2);
      const act = (by: string, target: string) => h.request(
        action === 'demote' ? `/api/admin/users/${target}/role` : `/api/admin/users/${target}/ban`,
        json('POST', action === 'demote' ? { role: 'user' } : { banned: true }, { authorization: `Bearer ${by}` }),
      ).then(async (r) => ({ status: r.status, body: await r.text() }));

      // B's row held, so the first request waits while the second is sent: the window of a real race, every time.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const lockTaken = new Promise<void>((r) => (locked = r));
      const holder = sql.begin(async (tx) => {
        await tx`select id from users where id = ${b.id} for update`;
        locked();
        await held;
      });
      await lockTaken;
      let answers: { status: number; body: string }[];
      try {
        const first = act(a.key, b.id);
        await until('the first request to wait on the held row', async () => ((await waiting()) > 0 ? true : null), 60_000);
        let secondDone = false;
        const second = act(b.key, a.id).finally(() => (secondDone = true));
        // Either it waits too (one at a time), or it was answered meanwhile (both passed before).
        await until('the second request to wait or be answered', async () => (secondDone || (await waiting()) > 1 ? true : null), 60_000);
        release();
        answers = await Promise.all([first, second]);
      } finally {
        release();
        await holder;
      }
      expect(answers.map((x) => x.status).sort()).toEqual([200, 409]);
      expect(answers.find((x) => x.status === 409)!.body).toContain('last administrator');
      expect(await admins()).toBe(1);
      // The one left is still an administrator: it can act as one.
      const kept = answers[0]!.status === 200 ? a : b;
      expect((await h.request('/api/admin/stats', { headers: { authorization: `Bearer ${kept.key}` } })).status).toBe(200);
      // Leave the next round two fresh administrators only.
      await sql`update users set role = 'user' where role = 'admin'`;
    }, 120_000);
  }

  test('a demoted administrator\'s keys lose the admin scope; a key that had only it ends', async () => {
    const a = await seedUser(h.deps, { role: 'admin' });
    const b = await seedUser(h.deps, { role: 'admin' });
    const ops = await createApiKey(h.deps.db, b.id, { name: 'ops', scopes: ['admin'] });
    expect((await h.request(`/api/admin/users/${b.id}/role`, json('POST', { role: 'user' }, { authorization: `Bearer ${a.key}` }))).status).toBe(200);
    const rows = (await sql`select scopes, revoked_at from api_keys where user_id = ${b.id} order by created_at`) as unknown as { scopes: string[]; revoked_at: Date | null }[];
    expect(rows.map((r) => [r.scopes.includes('admin'), r.revoked_at !== null])).toEqual([[false, false], [false, true]]);
    expect((await h.request('/api/profile', { headers: { 'x-api-key': ops.key } })).status).toBe(401);
    // Promoted again, the old keys do not become admin keys again.
    expect((await h.request(`/api/admin/users/${b.id}/role`, json('POST', { role: 'admin' }, { authorization: `Bearer ${a.key}` }))).status).toBe(200);
    expect((await h.request('/api/admin/stats', { headers: { authorization: `Bearer ${b.key}` } })).status).toBe(403);
    await sql`update users set role = 'user' where role = 'admin'`;
  }, 60_000);
});
