/**
 * fast-check generators of request plans: plain data (so a failing case prints readably)
 * that `materialize` (request.ts) turns into bytes against the run's live state. Ids are
 * references into pools of ids the run has seen (`{ pool, i }`), resolved when sent, since
 * files and keys are created and deleted while the run goes on.
 */
import fc from 'fast-check';
import type { Operation, Schema } from './spec';

export type Mutation = 'none' | 'ext' | 'trunc' | 'flip' | 'nul' | 'suffix' | 'upper' | 'encoded' | 'long' | 'unicode' | 'dots';
/** A path segment: resolved from a pool, a transformation string or junk, chosen by the parameter's kind. */
export interface Segment { i: number; mut: Mutation; transform: string; junk: string; pick: number }
export type Auth = 'none' | 'keyBearer' | 'keyHeader' | 'cookie' | 'cookieNoCsrf' | 'jwt' | 'garbage';
export interface Part { name: string; filename?: string; type?: string; data: string; i: number }
export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string; type: string }
  | { kind: 'multipart'; parts: Part[]; mode: 'ok' | 'noBoundary' | 'wrongBoundary' | 'noClose' | 'crlfHeader' | 'nulHeader' | 'lfOnly' | 'manyHeaders' }
  | { kind: 'raw'; data: string; type: string; name?: string };
export interface Plan {
  op: number;
  /** Another method than the operation's (405/404 paths), or null. */
  method: string | null;
  segments: Segment[];
  /** Extra path after the template (`/x`, `.json`, `//`), usually empty. */
  tail: string;
  query: { declared: boolean; n: number; name: string; value: string; encode: 'uri' | 'raw' | 'plus' }[];
  headers: [string, string][];
  auth: Auth;
  body: Body;
  /** Declared Content-Length minus the true one (0 = honest). */
  lengthSkew: number;
}

const nul = '\u0000';
const bidi = '\u202e\u2066\u200f';
const weird = fc.constantFrom('', ' ', nul, `a${nul}b`, '%00', '%', '%zz', '..', '../..', '/', '//', '\\', '\r\n', '\u00e9', '\u{1f600}', bidi + 'gnp.exe', '\uffff', '\ud800', '"', "'", '<script>', '${x}', '-1', '0', 'NaN', 'Infinity', '1e309', 'null', 'true', '[]', '{}', '__proto__', 'constructor', 'toString');
const huge = fc.constantFrom(1_000, 70_000, 1_100_000).map((n) => 'x'.repeat(n));
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 4, arbitrary: weird },
  { weight: 1, arbitrary: huge },
);
const dates = fc.constantFrom('2026-12-31T00:00:00Z', '2030-01-01T00:00:00.000Z', '1970-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '99999-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'yesterday', '2026-13-01');
const numbers = fc.oneof(fc.integer({ min: -5, max: 120 }).map(String), fc.constantFrom('0', '-1', '1.5', '1e3', '9007199254740993', '99999999999999999999', ' 5', '0x10'));
const scalar = fc.oneof({ weight: 4, arbitrary: text }, { weight: 2, arbitrary: numbers }, { weight: 1, arbitrary: dates }, { weight: 1, arbitrary: fc.constantFrom('true', 'false', '1', 'yes') });

const transformKeys: [string, fc.Arbitrary<string>][] = [
  ['w', fc.oneof(fc.integer({ min: 1, max: 1200 }).map(String), fc.constantFrom('0', '-5', '1.5', '8192', '65536', 'auto', '1e9', ''))],
  ['h', fc.oneof(fc.integer({ min: 1, max: 1200 }).map(String), fc.constantFrom('0', '-5', '0.5', '5000', 'auto'))],
  ['c', fc.constantFrom('fill', 'lfill', 'fit', 'limit', 'scale', 'crop', 'pad', 'thumb', 'zoom', '')],
  ['g', fc.constantFrom('center', 'auto', 'face', 'north', 'south_east', 'west', 'xy', '')],
  ['x', fc.constantFrom('0', '5', '-3', '100000')], ['y', fc.constantFrom('0', '7', '-1', '99999')],
  ['ar', fc.constantFrom('16:9', '1.5', '0', '1:0', '-1', '100000:1', 'a:b')],
  ['q', fc.constantFrom('auto', '1', '50', '100', '0', '101', 'best')],
  ['f', fc.constantFrom('webp', 'avif', 'jpg', 'jpeg', 'png', 'gif', 'auto', 'bmp', 'svg', '')],
  ['a', fc.constantFrom('0', '90', '180', '270', '45', '-30', '360', '1000000', 'auto')],
  ['fl', fc.constantFrom('hflip', 'vflip', 'progressive', 'keep_icc', 'hflip.vflip', 'nope')],
  ['b', fc.constantFrom('white', 'ff0000', 'rgb:00ff0080', '#fff', 'transparent', 'zz', 'auto')],
  ['r', fc.constantFrom('0', '5', '50', 'max', '-1', '100000')],
  ['e', fc.constantFrom('blur:5', 'sharpen', 'grayscale', 'sepia', 'negate', 'pixelate:2', 'pixelate:200', 'trim', 'trim:50', 'blur:2000', 'blur:0', 'grayscale.sepia.negate', 'nope')],
  ['dpr', fc.constantFrom('1', '2', '3', '0', '4.5', '10')],
  ['exp', fc.constantFrom('0', '1', '9999999999', '-1', 'x')],
  ['t', fc.constantFrom('thumb', 'nope', '')],
  // #24 adjustments, border, padding, opacity, default image, Client Hints.
  ['e', fc.constantFrom('brightness', 'brightness:-99', 'contrast:50', 'contrast', 'saturation:-100', 'hue:100', 'gamma:150', 'gamma:-51', 'tint:30:blue', 'tint:30:rgb:00ff00', 'colorize', 'tint:1:2:3', 'vignette:100', 'vignette:-1', 'brightness.brightness')],
  ['o', fc.constantFrom('0', '50', '100', '101', '-1', 'half')],
  ['bo', fc.constantFrom('5px_solid_black', '1000px_solid_rgb:ff000080', '0px_solid_red', '5px_dashed_red', '5_solid_red', '1001px_solid_red', 'px_solid_')],
  ['pd', fc.constantFrom('10', '10:20', '1:2:3', '1:2:3:4', '1:2:3:4:5', '8192', '9000', ':', '-1')],
  ['b', fc.constantFrom('blurred', 'blurred:2000', 'blurred:0', 'blurred:x')],
  ['d', fc.constantFrom('missingfile', 'a/b', '', 'x'.repeat(65))],
  ['w', fc.constantFrom('auto', 'auto:400', 'auto:0', 'auto:99999', 'auto:')],
  ['dpr', fc.constantFrom('auto', 'auto:2')],
];
export const transformString = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.oneof(...transformKeys.map(([k, v]) => v.map((x) => `${k}_${x}`))), { minLength: 1, maxLength: 6 }).map((p) => p.join(',')) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 3 }), text), { maxLength: 4 }).map((p) => p.map(([k, v]) => `${k}_${v}`).join(',')) },
  { weight: 1, arbitrary: text },
);
/** A chain of such strings joined by `/` (parse.ts): one path segment per step on the chain routes, or `%2F`-encoded in one. */
export const transformChain = fc.array(transformString, { minLength: 2, maxLength: 7 }).map((steps) => steps.join('/'));

const segment: fc.Arbitrary<Segment> = fc.record({
  i: fc.nat(1000),
  mut: fc.constantFrom<Mutation>('none', 'none', 'none', 'none', 'ext', 'trunc', 'flip', 'nul', 'suffix', 'upper', 'encoded', 'long', 'unicode', 'dots'),
  transform: fc.oneof({ weight: 9, arbitrary: transformString }, { weight: 1, arbitrary: transformChain }),
  junk: text,
  pick: fc.nat(9),
});

const rangeValue = fc.oneof(
  fc.tuple(fc.nat(3000), fc.nat(3000)).map(([a, b]) => `bytes=${a}-${b}`),
  fc.nat(5000).map((n) => `bytes=-${n}`),
  fc.nat(5000).map((n) => `bytes=${n}-`),
  fc.constantFrom('bytes=0-0,5-9', 'bytes=0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1', 'bytes=', 'bytes=-0', 'bytes=abc', 'items=0-5', 'bytes=99999999999999999999-', 'bytes=5-2', 'bytes 0-5', ''),
);
const header: fc.Arbitrary<[string, string]> = fc.oneof(
  rangeValue.map((v): [string, string] => ['Range', v]),
  fc.constantFrom('*', '"x"', 'W/"x"', '"a", "b"', '', '"' + 'f'.repeat(64) + '"').map((v): [string, string] => ['If-None-Match', v]),
  fc.constantFrom('Thu, 01 Jan 2099 00:00:00 GMT', 'yesterday', '').map((v): [string, string] => ['If-Modified-Since', v]),
  fc.constantFrom('image/avif,image/webp,*/*', 'image/webp', '*/*', 'text/html', 'image/*;q=0', '').map((v): [string, string] => ['Accept', v]),
  fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'multipart/form-data', 'image/png', 'application/x-www-form-urlencoded', 'application/vnd.x+json', '', 'x').map((v): [string, string] => ['Content-Type', v]),
  fc.constantFrom('https://evil.example', 'null', '').map((v): [string, string] => ['Origin', v]),
  fc.constantFrom('1.2.3.4', 'garbage, ::1', '').map((v): [string, string] => ['X-Forwarded-For', v]),
  fc.constantFrom('gzip, br', 'identity;q=0', '').map((v): [string, string] => ['Accept-Encoding', v]),
  fc.constantFrom('x', 'a.b', '127.0.0.1:1', 'localhost:99999', '[::1]', 'évil', '', 'x'.repeat(300)).map((v): [string, string] => ['Host', v]),
  // tus (the Upload-* headers the tus operations read), the raw upload's name, Client Hints, credentials.
  fc.constantFrom('1.0.0', '0.2.2', '').map((v): [string, string] => ['Tus-Resumable', v]),
  fc.tuple(fc.constantFrom('Upload-Length', 'Upload-Offset', 'Upload-Defer-Length'), fc.oneof(numbers, fc.constantFrom('9007199254740993', '9999999999999999', '1,1'))).map(([k, v]): [string, string] => [k, v]),
  fc.constantFrom('filename eC5wbmc=', 'filename', 'filename !!', '__proto__ eA==,constructor eA==,toString eA==', 'a b c', ',', 'filetype aW1hZ2UvcG5n,folder Ly4u', 'metadata e30=,tags LCws').map((v): [string, string] => ['Upload-Metadata', v]),
  fc.constantFrom('sha256', 'sha256 AAAA', `sha256 ${'A'.repeat(43)}=`, 'md5 AAAA', 'sha256 !!', '').map((v): [string, string] => ['Upload-Checksum', v]),
  fc.constantFrom("UTF-8''%E2%80%AEa.png", "UTF-8''%E0%A4%A", "utf-8''%00.png", '../../x', 'a'.repeat(2000), `${bidi}x.png`, '').map((v): [string, string] => ['X-File-Name', v]),
  fc.tuple(fc.constantFrom('Sec-CH-Width', 'Sec-CH-DPR', 'DPR', 'Width', 'Viewport-Width'), fc.constantFrom('0', '-1', 'NaN', '1e309', '3.5', '99999', '')).map(([k, v]): [string, string] => [k, v]),
  fc.constantFrom('pictor_session=x', '=;;;', 'pictor_refresh=' + 'a'.repeat(3000), 'a=b; a=c').map((v): [string, string] => ['Cookie', v]),
  fc.constantFrom('Bearer', 'Basic eDp4', 'Bearer pk_', 'Bearer pk_' + 'x'.repeat(500), 'bearer  x').map((v): [string, string] => ['Authorization', v]),
  fc.constantFrom('x'.repeat(200), 'a b', '', '__proto__').map((v): [string, string] => ['X-Request-Id', v]),
);

const json: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), text, fc.constantFrom({ __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } }));

/** A value for a JSON Schema: mostly valid, sometimes of the wrong type or out of range. */
export function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return json;
  const wrong = fc.oneof(json, text, fc.constantFrom(null, -1, 1e308, true, [], {}));
  return fc.oneof({ weight: 6, arbitrary: validFor(schema, depth) }, { weight: 1, arbitrary: wrong });
}

function validFor(s: Schema, depth: number): fc.Arbitrary<unknown> {
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => valueFor(a, depth + 1)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const known = fc.subarray(props).chain((picked) => {
        const required = props.filter(([k]) => s.required?.includes(k));
        const all = [...new Map([...required, ...picked]).entries()];
        return fc.tuple(...all.map(([k, v]) => valueFor(v, depth + 1).map((x) => [k, x] as const)));
      });
      const unknown = fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'isPublic', 'id', 'user_id', 'role')), json);
      const extra = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: unknown });
      return fc.tuple(known, extra).map(([entries, x]) => {
        const o: Record<string, unknown> = Object.fromEntries(entries);
        if (x) o[x[0]] = x[1];
        return o;
      });
    }
    case 'array':
      return fc.array(valueFor(s.items, depth + 1), { minLength: 0, maxLength: Math.min(s.maxItems ?? 5, 5) + 1 });
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer({ min: Math.max(s.minimum ?? -10, -1e6), max: Math.min(s.maximum ?? 1e6, 1e9) }), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1.5));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default: {
      if (s.format === 'date-time') return dates;
      if (s.format === 'email') return fc.oneof(fc.emailAddress(), text);
      const sized = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 24, 64) });
      return fc.oneof({ weight: 3, arbitrary: sized }, { weight: 1, arbitrary: text }, ...(s.examples?.length ? [fc.constantFrom(...s.examples)] : []));
    }
  }
}

const deep = fc.integer({ min: 50, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const partData = fc.constantFrom('png', 'jpeg', 'gif', 'webp', 'truncated', 'random', 'empty', 'svg', 'text');
const part: fc.Arbitrary<Part> = fc.record({
  name: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('file', 'image') }, { weight: 3, arbitrary: fc.constantFrom('folder', 'name', 'is_public', 'expires_in', 'expires_at', 'transformations') }, { weight: 1, arbitrary: text }),
  filename: fc.option(fc.oneof(fc.constantFrom('a.png', 'photo.jpg', `x${nul}.png`, `${bidi}gpj.exe`, '../../etc/passwd', '', 'a'.repeat(600)), fc.string({ unit: 'grapheme', maxLength: 20 })), { freq: 5, nil: undefined }),
  type: fc.option(fc.constantFrom('image/png', 'image/jpeg', 'application/octet-stream', 'text/plain', 'image/svg+xml', ''), { freq: 3, nil: undefined }),
  data: partData,
  i: fc.nat(),
}, { requiredKeys: ['name', 'data', 'i'] });

function bodyFor(op: Operation): fc.Arbitrary<Body> {
  const write = op.method === 'POST' || op.method === 'PATCH' || op.method === 'PUT' || op.method === 'DELETE';
  const none = fc.constant<Body>({ kind: 'none' });
  const jsonBody = valueFor(op.body).map((value): Body => ({ kind: 'json', value }));
  const textBody = fc.oneof(deep, huge, fc.constantFrom('{', '{"a":', 'null', '"x"', '[]', `{"name":"a${nul}"}`, 'a=1&b=2', '\ufeff{}'), text)
    .chain((t) => fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded').map((type): Body => ({ kind: 'text', text: t, type })));
  const multipart = fc.record({
    parts: fc.array(part, { minLength: 0, maxLength: 5 }),
    mode: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'noBoundary', 'wrongBoundary', 'noClose', 'crlfHeader', 'nulHeader', 'lfOnly', 'manyHeaders'),
  }).map((m): Body => ({ kind: 'multipart', ...m } as Body));
  const raw = fc.record({ data: partData, type: fc.constantFrom('image/png', 'image/jpeg', 'application/octet-stream', 'image/gif', ''), name: fc.option(text, { nil: undefined }) })
    .map((r): Body => ({ kind: 'raw', ...r }));
  if (!write) return fc.oneof({ weight: 9, arbitrary: none }, { weight: 1, arbitrary: textBody });
  if (op.upload) return fc.oneof({ weight: 1, arbitrary: none }, { weight: 5, arbitrary: multipart }, { weight: 3, arbitrary: raw }, { weight: 1, arbitrary: textBody }, { weight: 1, arbitrary: jsonBody });
  return fc.oneof({ weight: 1, arbitrary: none }, { weight: 6, arbitrary: jsonBody }, { weight: 2, arbitrary: textBody }, { weight: 1, arbitrary: multipart });
}

function planFor(op: Operation, index: number): fc.Arbitrary<Plan> {
  const declared = op.query.length > 0;
  return fc.record({
    op: fc.constant(index),
    method: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND') }),
    segments: fc.array(segment, { minLength: 4, maxLength: 4 }),
    tail: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '/x', '.json', '//', '/..', '%2f..', ';a=b', '#x') }),
    query: fc.array(fc.record({
      declared: declared ? fc.boolean() : fc.constant(false),
      n: fc.nat(50),
      name: fc.oneof(fc.constantFrom('limit', 'cursor', 'folder', 'q', 'v', 'isPublic', '__proto__', ''), text),
      value: scalar,
      encode: fc.constantFrom('uri', 'uri', 'uri', 'raw', 'plus'),
    }), { maxLength: declared ? 4 : 1 }),
    headers: fc.array(header, { maxLength: 3 }),
    auth: op.secured
      ? fc.constantFrom<Auth>('keyBearer', 'keyHeader', 'cookie', 'jwt', 'keyBearer', 'cookie', 'none', 'cookieNoCsrf', 'garbage')
      : fc.constantFrom<Auth>('none', 'none', 'none', 'keyBearer', 'cookie', 'garbage'),
    body: bodyFor(op),
    lengthSkew: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, -10, 1, 100) }),
  });
}

/** One request plan for any operation of the document (uniform over operations). */
export function planArbitrary(ops: Operation[]): fc.Arbitrary<Plan> {
  return fc.nat(ops.length - 1).chain((i) => planFor(ops[i]!, i));
}
