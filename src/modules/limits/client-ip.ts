/**
 * The client address used as the key of IP buckets (API.md §7). Without `TRUST_PROXY` it is
 * the TCP peer: `X-Forwarded-For` is spoofable and ignored. With a hop count `N`, the address
 * `N` hops in front of us is taken (the peer is hop 0, the last `X-Forwarded-For` entry hop 1,
 * …), as Express's `trust proxy = N` does. With a CIDR list, we walk from the peer towards the
 * client through trusted addresses and take the first untrusted one.
 */
import { isIP } from 'node:net';

export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'cidrs'; ranges: Cidr[] };

interface Cidr {
  /** 16 bytes (IPv4 mapped into IPv6). */
  bytes: Uint8Array;
  bits: number;
}

/** Parses an address into 16 bytes (IPv4 as `::ffff:a.b.c.d`); null when not an IP. */
function toBytes(address: string): Uint8Array | null {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const kind = isIP(ip);
  const out = new Uint8Array(16);
  if (kind === 4) {
    out[10] = 0xff;
    out[11] = 0xff;
    ip.split('.').forEach((p, i) => (out[12 + i] = Number(p)));
    return out;
  }
  if (kind !== 6) return null;
  let [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, ''];
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(tail || head);
  if (v4) {
    const groups = `${((+v4[1]! << 8) | +v4[2]!).toString(16)}:${((+v4[3]! << 8) | +v4[4]!).toString(16)}`;
    if (tail) tail = tail.replace(v4[0], groups);
    else head = head.replace(v4[0], groups);
  }
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/**
 * The key of a client in IP buckets: an IPv4 address as is, an IPv6 address by its /64 (one
 * subscriber's network: a host picks any of its 2^64 addresses at will, so per-address counts
 * let one client make unlimited guesses).
 */
export function ipLimitKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const bytes = toBytes(ip);
  if (!bytes) return ip;
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}::/64`;
}

/** Normalises an address for use as a key: IPv4-mapped IPv6 becomes plain IPv4. */
export function normalizeIp(address: string): string {
  const a = address.trim().replace(/^\[|\]$/g, '');
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1]! : a.toLowerCase();
}

function parseCidr(text: string): Cidr | null {
  const [addr, bitsText] = text.trim().split('/');
  const bytes = addr ? toBytes(addr) : null;
  if (!bytes) return null;
  const v4 = isIP(addr!.replace(/^\[|\]$/g, '')) === 4;
  const given = bitsText === undefined ? (v4 ? 32 : 128) : Number(bitsText);
  if (!Number.isInteger(given) || given < 0 || given > (v4 ? 32 : 128)) return null;
  return { bytes, bits: v4 ? given + 96 : given };
}

function inCidr(bytes: Uint8Array, c: Cidr): boolean {
  for (let bit = 0; bit < c.bits; bit += 8) {
    const mask = c.bits - bit >= 8 ? 0xff : (0xff << (8 - (c.bits - bit))) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (c.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/** Parses `TRUST_PROXY`: unset → none, an integer → hop count, else a comma list of CIDRs/addresses. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = value?.trim();
  if (!v || v === '0' || v === 'false') return { kind: 'none' };
  if (/^\d+$/.test(v)) return { kind: 'hops', hops: Number(v) };
  const ranges = v.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const c = parseCidr(p);
    if (!c) throw new Error(`TRUST_PROXY: "${p}" is neither a hop count nor an address/CIDR`);
    return c;
  });
  return { kind: 'cidrs', ranges };
}

/**
 * The client address: `peer` is the socket address (undefined under `app.handle` in tests → `unknown`),
 * `forwardedFor` the raw `X-Forwarded-For` header.
 */
export function clientIp(trust: TrustProxy, peer: string | undefined, forwardedFor: string | null): string {
  const socket = peer ? normalizeIp(peer) : 'unknown';
  if (trust.kind === 'none' || !forwardedFor) return socket;
  // Nearest hop first: the peer, then X-Forwarded-For from right to left.
  const chain = [socket, ...forwardedFor.split(',').map((s) => normalizeIp(s)).filter((s) => s && isIP(s)).reverse()];
  if (trust.kind === 'hops') return chain[Math.min(trust.hops, chain.length - 1)]!;
  for (let i = 0; i < chain.length - 1; i++) {
    const bytes = toBytes(chain[i]!);
    if (!bytes || !trust.ranges.some((r) => inCidr(bytes, r))) return chain[i]!;
  }
  return chain[chain.length - 1]!;
}
