/**
 * One HTTP exchange with a server at an address already checked by the SSRF guard
 * (lib/ssrf.ts), so that the name is not resolved a second time between the check and the
 * connection (DNS rebinding).
 *
 * Bun: the request goes to `http(s)://<address>:<port>/…` with the original `Host` header,
 * and for HTTPS `tls.serverName` set to the original host name: Bun sends it as SNI and
 * verifies the certificate against it (a certificate for another name fails with
 * ERR_TLS_CERT_ALTNAME_INVALID), so pinning the address weakens nothing. `proxy: false` keeps
 * `HTTP(S)_PROXY` from sending the request elsewhere; redirects are returned, never followed.
 *
 * Other runtimes (Deno): plain HTTP is pinned the same way; HTTPS would need a server-name
 * override that their `fetch` lacks, so it is refused rather than sent unpinned.
 */
import { isBun } from './runtime';

export interface PinnedInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Extra trusted CA certificates (PEM) for HTTPS, e.g. a private CA; the name is still verified. */
  ca?: string;
}

export async function pinnedFetch(url: URL, address: string, init: PinnedInit): Promise<Response> {
  const target = new URL(url.href);
  target.hostname = address.includes(':') ? `[${address}]` : address;
  const headers = { ...init.headers, host: url.host };
  const base = { method: init.method, headers, body: init.body as BodyInit | undefined, signal: init.signal, redirect: 'manual' as const };
  if (isBun) {
    const extra = { proxy: false, ...(url.protocol === 'https:' ? { tls: { serverName: url.hostname, ...(init.ca ? { ca: init.ca } : {}) } } : {}) };
    return fetch(target, { ...base, ...extra } as RequestInit);
  }
  if (url.protocol === 'https:') throw new Error('HTTPS to a pinned address needs the Bun runtime');
  return fetch(target, base);
}
