/**
 * SSRF guard for every request the server makes to a URL someone else chose (remote sources,
 * webhook targets). Reusable: a `SsrfPolicy` says what may be reached, `guardedFetch` does the
 * request under it.
 *
 * What it enforces, per hop:
 * - `http:`/`https:` only, no credentials in the URL, an optional allow-list of hosts or URL
 *   prefixes (checked again on every redirect target);
 * - the host is resolved here (all A/AAAA records), and the request is refused when ANY
 *   address is loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast, reserved,
 *   documentation, unspecified or a cloud metadata address — IPv4-mapped, -compatible, NAT64 and
 *   6to4 IPv6 forms are judged by the IPv4 address inside them;
 * - the connection then goes to the checked address itself (platform/pinned-fetch.ts), with
 *   the original `Host` header and TLS server name, so a DNS answer that changes between the
 *   check and the connect (rebinding) cannot move the request elsewhere;
 * - redirects are followed by hand (`redirect: 'manual'`), at most `maxRedirects`, each target
 *   going through all of the above again;
 * - a total deadline covers resolution, connection and headers; `readBounded` extends it over
 *   the body and stops reading past a byte limit.
 *
 * Loopback is reachable only with `allowLoopback` (tests), private ranges only with
 * `allowPrivate` (a deployment whose webhook receivers live on its own network). Metadata,
 * link-local and the other special ranges are never reachable.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { pinnedFetch } from '../platform/pinned-fetch';

export type AddressClass =
  | 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'cgnat' | 'multicast' | 'unspecified' | 'reserved';

/** Resolves a host name to its addresses (IPv4 and IPv6). Injectable for tests; production uses the system resolver. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface SsrfPolicy {
  /** 127.0.0.0/8 and ::1 (tests with a local server; never in production). */
  allowLoopback?: boolean;
  /** RFC 1918 and fc00::/7 (not the metadata address inside it). */
  allowPrivate?: boolean;
  /**
   * When set, only these may be fetched: a host (`img.example.com`, an IP literal), a wildcard
   * (`*.example.com`: subdomains only) or a URL prefix (`https://cdn.example.com/images/`).
   */
  allowList?: readonly string[];
  /** Redirects followed by hand, each re-checked (default 3). */
  maxRedirects?: number;
  resolver?: Resolver;
}

/** Why a URL was refused; `reason` is stable for callers that map it to a status. */
export class SsrfError extends Error {
  constructor(
    readonly reason: 'scheme' | 'credentials' | 'not-allowed' | 'address' | 'redirects' | 'resolve',
    message: string,
    readonly address?: string,
    /** For `redirects`: the status of the redirect that was not followed. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SsrfError';
  }
}

// ---------------------------------------------------------------- address classification

function parseIPv4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** 128-bit value of an IPv6 literal (an embedded dotted IPv4 tail included), or null. */
function parseIPv6(input: string): bigint | null {
  let ip = input.replace(/^\[|\]$/g, '');
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  if (isIP(ip) !== 6) return null;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    if (v4 === null) return null;
    ip = `${ip.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const V4 = (cidr: string): [number, number] => {
  const [ip, bits] = cidr.split('/') as [string, string];
  return [parseIPv4(ip)!, Number(bits)];
};
const inV4 = (n: number, [base, bits]: [number, number]) => bits === 0 || (n >>> (32 - bits)) === (base >>> (32 - bits));

const V4_RANGES: [AddressClass, [number, number]][] = ([
  ['unspecified', '0.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['cgnat', '100.64.0.0/10'],
  ['loopback', '127.0.0.0/8'],
  ['link-local', '169.254.0.0/16'],
  ['private', '172.16.0.0/12'],
  ['reserved', '192.0.0.0/24'], // IETF protocol assignments
  ['reserved', '192.0.2.0/24'], // TEST-NET-1
  ['reserved', '192.88.99.0/24'], // 6to4 relay anycast
  ['private', '192.168.0.0/16'],
  ['reserved', '198.18.0.0/15'], // benchmarking
  ['reserved', '198.51.100.0/24'], // TEST-NET-2
  ['reserved', '203.0.113.0/24'], // TEST-NET-3
  ['multicast', '224.0.0.0/4'],
  ['reserved', '240.0.0.0/4'], // incl. 255.255.255.255
] as [AddressClass, string][]).map(([c, r]) => [c, V4(r)]);

/** Cloud metadata endpoints: never reachable, whatever the policy allows. */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192']);
const METADATA_V6 = [parseIPv6('fd00:ec2::254')!];

function classifyV4(n: number, text: string): AddressClass {
  if (METADATA_V4.has(text)) return 'metadata';
  for (const [cls, range] of V4_RANGES) if (inV4(n, range)) return cls;
  return 'public';
}

const in6 = (n: bigint, prefix: string, bits: number) => (n >> BigInt(128 - bits)) === (parseIPv6(prefix)! >> BigInt(128 - bits));
const v4Of = (n: bigint, shift: bigint) => Number((n >> shift) & 0xffffffffn);
const v4Text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** What kind of address `ip` (an IPv4 or IPv6 literal) is; anything that is not one is `reserved`. */
export function classifyAddress(ip: string): AddressClass {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return classifyV4(v4, ip);
  const n = parseIPv6(ip);
  if (n === null) return 'reserved';
  if (METADATA_V6.includes(n)) return 'metadata';
  if (n === 0n) return 'unspecified';
  if (n === 1n) return 'loopback';
  // Forms that carry an IPv4 address: judged by that address.
  // ::ffff:0:a.b.c.d is SIIT's IPv4-translated form (RFC 2765): it was judged public.
  if (in6(n, '::ffff:0:0', 96) || in6(n, '::ffff:0:0:0', 96) || in6(n, '::', 96) || in6(n, '64:ff9b::', 96)) {
    const inner = v4Of(n, 0n);
    return classifyV4(inner, v4Text(inner));
  }
  if (in6(n, '2002::', 16)) {
    const inner = v4Of(n, 80n);
    return classifyV4(inner, v4Text(inner));
  }
  if (in6(n, 'fc00::', 7)) return 'private';
  if (in6(n, 'fe80::', 10) || in6(n, 'fec0::', 10)) return 'link-local';
  if (in6(n, 'ff00::', 8)) return 'multicast';
  if (in6(n, '64:ff9b:1::', 48) || in6(n, '100::', 64) || in6(n, '2001::', 32) || in6(n, '2001:db8::', 32) || in6(n, '2001:10::', 28) || in6(n, '2001:20::', 28)) {
    return 'reserved';
  }
  return 'public';
}

/** Null when the policy lets the request reach `ip`, else why not. */
export function addressRefusal(ip: string, policy: SsrfPolicy): string | null {
  const cls = classifyAddress(ip);
  if (cls === 'public') return null;
  if (cls === 'loopback' && policy.allowLoopback) return null;
  if (cls === 'private' && policy.allowPrivate) return null;
  return cls;
}

// ---------------------------------------------------------------- URLs and the allow-list

/** The host as it appears in a URL, without IPv6 brackets. */
const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** True when the allow-list (if any) admits `u`. */
export function isAllowListed(u: URL, allowList: readonly string[] | undefined): boolean {
  if (!allowList) return true;
  const host = bareHost(u);
  return allowList.some((raw) => {
    const entry = raw.trim();
    if (entry.includes('://')) {
      // A URL prefix: compared on the normalised URL, so `https://a.com/x` does not admit `https://a.com.evil/`.
      // The parser lower-cases scheme and host; the path keeps its case (`/Pub/` is not `/pub/`).
      let prefix: URL;
      try {
        prefix = new URL(entry);
      } catch {
        return false;
      }
      const p = prefix.href;
      return u.origin === prefix.origin && (u.href === p || u.href.startsWith(p.endsWith('/') ? p : `${p}/`));
    }
    const name = entry.toLowerCase();
    if (name.startsWith('*.')) return host.endsWith(name.slice(1)) && host.length > name.length - 1;
    return host === name.replace(/^\[|\]$/g, '');
  });
}

/**
 * One `REMOTE_ALLOW_HOSTS` entry in the form `isAllowListed` compares (a host as URLs carry it:
 * lower-case, IDN as punycode, no trailing dot; `*.` and a domain; or an http(s) URL prefix), or
 * why it could never match anything. Such entries were accepted and then refused every fetch.
 */
export function normaliseAllowEntry(raw: string): { entry: string } | { problem: string } {
  const text = raw.trim();
  if (text.includes('://')) {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return { problem: 'is not a URL' };
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: 'a URL prefix starts with http:// or https://' };
    if (u.username || u.password || u.search || u.hash) return { problem: 'a URL prefix holds no credentials, query or fragment' };
    if (u.hostname.includes('*')) return { problem: 'a URL prefix takes no wildcard (write `*.example.com` for any subdomain)' };
    return { entry: u.href };
  }
  const wildcard = text.startsWith('*.');
  const host = wildcard ? text.slice(2) : text;
  if (host.includes('*')) return { problem: 'a wildcard is written `*.example.com` (any subdomain of example.com)' };
  if (/[/?#@]/.test(host)) return { problem: 'a path needs a URL prefix with its scheme, such as https://example.com/pub/' };
  const v6 = isIP(host.replace(/^\[|\]$/g, '')) === 6;
  if (!v6 && host.includes(':')) return { problem: 'a port needs a URL prefix, such as http://img.example.com:8080/' };
  let hostname: string;
  try {
    hostname = new URL(`http://${v6 && !host.startsWith('[') ? `[${host}]` : host}/`).hostname.replace(/\.$/, '');
  } catch {
    return { problem: 'is not a host name' };
  }
  if (hostname === '') return { problem: 'is not a host name' };
  return { entry: wildcard ? `*.${hostname}` : hostname };
}

/** Checks what can be checked without the network: scheme, credentials, allow-list. */
export function checkUrl(input: string | URL, policy: SsrfPolicy): URL {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new SsrfError('scheme', 'not an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SsrfError('scheme', `scheme ${u.protocol} is not allowed (http and https only)`);
  if (u.username || u.password) throw new SsrfError('credentials', 'URLs with credentials are not allowed');
  if (u.port === '0') throw new SsrfError('scheme', 'port 0 is not a port anything can be reached on');
  if (!isAllowListed(u, policy.allowList)) throw new SsrfError('not-allowed', `host ${u.hostname} is not on the allow-list`);
  return u;
}

/**
 * Resolves `u`'s host and returns the address to connect to. Every address the name resolves
 * to must pass: a name with one public and one private record is refused (the client's choice
 * of record must not decide what we reach).
 */
export async function resolveChecked(u: URL, policy: SsrfPolicy): Promise<string> {
  const host = bareHost(u);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await (policy.resolver ?? systemResolver)(host)).map((a) => a.address);
    } catch (err) {
      throw new SsrfError('resolve', `could not resolve ${host}: ${(err as { code?: string }).code ?? (err as Error).message}`);
    }
    if (addresses.length === 0) throw new SsrfError('resolve', `${host} has no address`);
  }
  for (const a of addresses) {
    const why = addressRefusal(a, policy);
    if (why) throw new SsrfError('address', `${host === a ? a : `${host} resolves to ${a}, which`} is ${/^[aeiou]/.test(why) ? 'an' : 'a'} ${why} address`, a);
  }
  return addresses[0]!;
}

// ---------------------------------------------------------------- the request

export interface GuardedInit {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the whole exchange (resolution, connection, headers; the body too via `readBounded`). */
  signal?: AbortSignal;
  /** Extra trusted CA certificates (PEM) for HTTPS. */
  ca?: string;
}

export interface GuardedResponse {
  response: Response;
  /** The URL that answered, after redirects. */
  url: URL;
  /** The address it was reached at. */
  address: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * `fetch` under the policy: every hop checked (scheme, allow-list, resolved addresses) and
 * connected to the checked address. Throws `SsrfError` for a refusal; network errors and the
 * signal's abort pass through.
 */
export async function guardedFetch(input: string | URL, policy: SsrfPolicy, init: GuardedInit = {}): Promise<GuardedResponse> {
  let url = checkUrl(input, policy);
  let method = init.method ?? 'GET';
  let body = init.body;
  const max = policy.maxRedirects ?? 3;
  for (let hop = 0; ; hop++) {
    const address = await resolveChecked(url, policy);
    init.signal?.throwIfAborted();
    const response = await pinnedFetch(url, address, { method, headers: init.headers ?? {}, body, signal: init.signal, ca: init.ca });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || !location) return { response, url, address };
    await response.body?.cancel().catch(() => {});
    if (hop >= max) throw new SsrfError('redirects', `more than ${max} redirects`, undefined, response.status);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new SsrfError('scheme', `redirect to an invalid URL (${location.slice(0, 100)})`);
    }
    url = checkUrl(next, policy);
    // 303 (and 301/302 after a POST, as browsers do) continue as GET without a body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the body is larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a response body into memory, never more than `maxBytes` (a `Content-Length` over it is
 * refused before reading; a body that grows past it is cancelled at that point). The caller's
 * signal (its deadline) aborts a body that trickles.
 */
export async function readBounded(response: Response, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(maxBytes);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
