/**
 * Turns a request plan (plans.ts) into bytes, against the run's live state: ids from the
 * pools, the current session's cookie and token, sample image bytes.
 */
import type { Body, Mutation, Plan, Segment } from './plans';
import type { Operation } from './spec';
import type { WireRequest } from './wire';

/** `session`: access tokens of accounts the fuzz registered (see `authHeaders`). */
export type PoolName = 'file' | 'user' | 'job' | 'apikey' | 'token' | 'signed' | 'session';

export interface World {
  port: number;
  apiKey: string;
  session: { cookie: string; csrf: string; jwt: string };
  pools: Record<PoolName, string[]>;
  /** Sample bodies by name: png, jpeg, gif, webp, truncated, random, empty, svg, text. */
  samples: Record<string, Buffer>;
}

/** Which pool a path parameter's ids come from; `transform` for transformation segments. */
function kindOf(path: string, param: string): PoolName | 'transform' {
  if (param === 'transformations' || param === 'params' || /^step\d$/.test(param)) return 'transform';
  if (param === 'token') return 'token';
  if (param === 'signature') return 'signed';
  if (path.startsWith('/api/admin/users')) return 'user';
  if (path.startsWith('/api/queue')) return 'job';
  if (path.startsWith('/api/auth/api-keys')) return 'apikey';
  return 'file';
}

const EXTS = ['.webp', '.png', '.jpg', '.avif', '.gif', '.exe', '.', '.__proto__', '.constructor'];

function mutate(s: string, mut: Mutation, i: number): string {
  switch (mut) {
    case 'none': return s;
    case 'ext': return s + EXTS[i % EXTS.length];
    case 'trunc': return s.slice(0, Math.max(0, s.length - 1 - (i % 3)));
    case 'flip': return s.length ? s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A') : 'A';
    case 'nul': return i % 2 ? `${s}\u0000` : `\u0000${s}`;
    case 'suffix': return `${s}a`;
    case 'upper': return s.toUpperCase();
    case 'encoded': return [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    case 'long': return s.repeat(60);
    case 'unicode': return `${s}\u00e9\u{1f600}`;
    case 'dots': return '..';
  }
}

/** Percent-encodes what a URL path or query cannot carry, keeping the transformation punctuation readable. */
// (A UTF-8 round trip replaces lone surrogates, which encodeURIComponent refuses.)
const encode = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8')).replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%25([0-9a-fA-F]{2})/g, (m, h: string) => (h === '00' ? '%00' : m));
/** The string's UTF-8 bytes written as they are (a raw request target). */
const rawBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function segmentValue(world: World, op: Operation, param: string, seg: Segment): string {
  const kind = kindOf(op.path, param);
  if (kind === 'transform') return seg.pick < 8 ? seg.transform : seg.pick === 8 ? seg.junk : 'w_100';
  const pool = world.pools[kind];
  const base = seg.pick < 8 && pool.length ? pool[seg.i % pool.length]! : seg.pick === 9 ? seg.transform : seg.junk;
  return mutate(base, seg.mut, seg.i);
}

function pathOf(world: World, op: Operation, plan: Plan): string {
  const first = plan.segments[0]!;
  // Signed URLs are only worth something whole: take a learned one (sometimes mutated).
  if ((op.pathParams.includes('signature') || op.pathParams.includes('params')) && first.pick < 6 && world.pools.signed.length) {
    const learned = world.pools.signed[first.i % world.pools.signed.length]!;
    return first.mut === 'none' || first.pick < 3 ? learned : learned.replace(/\/([^/]+)$/, (_, last: string) => `/${encode(mutate(last, first.mut, first.i))}`);
  }
  let n = 0;
  return op.path.replace(/\{(\w+)\}/g, (_, param: string) => {
    const seg = plan.segments[n++ % plan.segments.length]!;
    const value = segmentValue(world, op, param, seg);
    // A few segments go out as raw bytes (NUL, UTF-8) instead of percent-encoded.
    return seg.pick === 0 && seg.i % 4 === 0 ? rawBytes(value) : encode(value);
  });
}

function queryOf(op: Operation, plan: Plan): string {
  const pairs = plan.query.map((q) => {
    const name = q.declared && op.query.length ? op.query[q.n % op.query.length]!.name : q.name;
    if (q.encode === 'raw') return `${rawBytes(name)}=${rawBytes(q.value)}`;
    const enc = (s: string) => (q.encode === 'plus' ? encode(s).replace(/%20/g, '+') : encode(s));
    return `${enc(name)}=${enc(q.value)}`;
  });
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function multipartBytes(world: World, body: Extract<Body, { kind: 'multipart' }>): { bytes: Buffer; type: string } {
  const boundary = 'fuzzBoundary7MA4YWxk';
  const eol = body.mode === 'lfOnly' ? '\n' : '\r\n';
  const chunks: Buffer[] = [];
  for (const p of body.parts) {
    let disposition = `form-data; name="${p.name}"`;
    if (p.filename !== undefined) disposition += `; filename="${p.filename}"`;
    if (body.mode === 'crlfHeader') disposition += '\r\nX-Injected: 1\r';
    if (body.mode === 'nulHeader') disposition += '\u0000';
    const lines = [`--${boundary}`, `Content-Disposition: ${disposition}`];
    if (p.type !== undefined) lines.push(`Content-Type: ${p.type}`);
    if (body.mode === 'manyHeaders') for (let i = 0; i < 2000; i++) lines.push(`X-H${i}: v`);
    const data = p.data === 'text' ? Buffer.from(['true', '/a/b', '3600', 'w_100', `x\u0000`, '\u202egnp'][p.i % 6]!) : world.samples[p.data]!;
    chunks.push(Buffer.from(lines.join(eol) + eol + eol, 'utf8'), data, Buffer.from(eol));
  }
  if (body.mode !== 'noClose') chunks.push(Buffer.from(`--${boundary}--${eol}`));
  const type = body.mode === 'noBoundary' ? 'multipart/form-data' : body.mode === 'wrongBoundary' ? 'multipart/form-data; boundary=other' : `multipart/form-data; boundary=${boundary}`;
  return { bytes: Buffer.concat(chunks), type };
}

function bodyOf(world: World, body: Body): { bytes?: Buffer; headers: [string, string][] } {
  switch (body.kind) {
    case 'none': return { headers: [] };
    case 'json': return { bytes: Buffer.from(JSON.stringify(body.value) ?? 'null'), headers: [['Content-Type', 'application/json']] };
    case 'text': return { bytes: Buffer.from(body.text), headers: [['Content-Type', body.type]] };
    case 'multipart': {
      const m = multipartBytes(world, body);
      return { bytes: m.bytes, headers: [['Content-Type', m.type]] };
    }
    case 'raw': {
      const headers: [string, string][] = body.type ? [['Content-Type', body.type]] : [];
      if (body.name !== undefined) headers.push(['X-File-Name', rawBytes(body.name.replace(/[\r\n]/g, ''))]);
      return { bytes: world.samples[body.data], headers };
    }
  }
}

function authHeaders(world: World, plan: Plan, method: string, path: string): [string, string][] {
  const unsafe = method !== 'GET' && method !== 'HEAD';
  // Deleting the account the run works as (possible once the fuzz has promoted another admin)
  // would end the run's own login: an account the fuzz registered is deleted instead.
  if (method === 'DELETE' && path === '/api/account' && plan.auth !== 'none' && plan.auth !== 'garbage') {
    const others = world.pools.session;
    return others.length ? [['Authorization', `Bearer ${others[plan.segments[0]!.i % others.length]!}`]] : [];
  }
  switch (plan.auth) {
    case 'none': return [];
    case 'keyBearer': return [['Authorization', `Bearer ${world.apiKey}`]];
    case 'keyHeader': return [['X-API-Key', world.apiKey]];
    case 'jwt': return [['Authorization', `Bearer ${world.session.jwt}`]];
    case 'cookie': return [['Cookie', world.session.cookie], ...(unsafe ? [['X-CSRF-Token', world.session.csrf] as [string, string]] : [])];
    case 'cookieNoCsrf': return [['Cookie', world.session.cookie]];
    case 'garbage': {
      const options: [string, string][] = [['Authorization', 'Bearer pk_notakey'], ['Authorization', 'Basic Zm9vOmJhcg=='], ['Authorization', `Bearer ${'a'.repeat(5000)}`], ['Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'], ['Cookie', 'pictor_access=x; pictor_csrf=y'], ['X-API-Key', `${world.apiKey}\u00e9`]];
      return [options[plan.segments[1]!.i % options.length]!];
    }
  }
}

export function materialize(world: World, ops: Operation[], plan: Plan): WireRequest {
  const op = ops[plan.op]!;
  const method = plan.method ?? op.method;
  const target = pathOf(world, op, plan) + plan.tail + queryOf(op, plan);
  const body = bodyOf(world, plan.body);
  // Headers from the plan win over the body's own Content-Type (a mismatch on purpose).
  const planned = new Set(plan.headers.map(([k]) => k.toLowerCase()));
  const headers: [string, string][] = [
    ...(planned.has('host') ? [] : [['Host', `127.0.0.1:${world.port}`] as [string, string]]),
    ...authHeaders(world, plan, method, op.path),
    ...body.headers.filter(([k]) => !planned.has(k.toLowerCase())),
    ...plan.headers.map(([k, v]): [string, string] => [k, rawBytes(v)]),
  ];
  const length = body.bytes?.length ?? 0;
  return { method, target, headers, body: body.bytes, contentLength: plan.lengthSkew ? Math.max(0, length + plan.lengthSkew) : undefined };
}
