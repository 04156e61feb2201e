/**
 * HEAD on the live job-event stream (found by the fuzz test, issue #17): the runtime answers
 * HEAD by running the GET handler and waiting for its body to end, and an event stream never
 * ends, so HEAD /api/queue/events got no answer at all and held a subscription. It must answer
 * the stream's headers at once, with no body.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sendRaw } from '../helpers/fuzz/wire';
import { startServer, type RunningServer } from '../helpers/server';

describe('HEAD /api/queue/events', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => srv?.close());

  test('answers the event stream\'s headers without a body; GET still streams', async () => {
    const auth: [string, string] = ['Authorization', `Bearer ${srv.bootstrap!.api_key}`];
    // 15 s is only how long we wait for an answer that, before the fix, never came.
    const head = await sendRaw(srv.port, { method: 'HEAD', target: '/api/queue/events', headers: [['Host', '127.0.0.1'], auth] }, 15_000);
    expect(head.failure).toBeUndefined();
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const get = await sendRaw(srv.port, { method: 'GET', target: '/api/queue/events', headers: [['Host', '127.0.0.1'], auth] }, 15_000);
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    // Anonymous HEAD is refused like GET.
    const anon = await sendRaw(srv.port, { method: 'HEAD', target: '/api/queue/events', headers: [['Host', '127.0.0.1']] }, 15_000);
    expect(anon.status).toBe(401);
  });
});
