/**
 * Why listening failed, in the runtime's own terms (Bun: `err.code` such as `EADDRINUSE`;
 * Deno: `Deno.errors.AddrInUse`, `PermissionDenied`…) turned into a `StartupError` naming the
 * setting to change; and a probe that the port is free, for the WORKERS primary, which does
 * not listen itself.
 */
import { createServer } from 'node:net';
import { errorCode, errorSummary, StartupError } from '../lib/startup';

export function listenFailure(err: unknown, port: number, host: string): StartupError | null {
  const code = errorCode(err) ?? '';
  const at = `port ${port} on ${host}`;
  if (code === 'EADDRINUSE' || code === 'AddrInUse') {
    return new StartupError(`Cannot listen: ${at} is already in use: set PORT to a free port, or stop the process using it`, 'PORT', 'EADDRINUSE');
  }
  if (code === 'EACCES' || code === 'PermissionDenied') {
    return new StartupError(`Cannot listen: not permitted to use ${at} (${errorSummary(err)}): set PORT to 1024 or above, or grant the permission`, 'PORT', code);
  }
  // A HOST that is no address or name it can resolve (`not-a-host`): Bun says EINVAL, Deno only
  // "failed to lookup address information" (no code).
  const unresolved = /failed to lookup address/i.test(err instanceof Error ? err.message : '');
  if (code === 'EADDRNOTAVAIL' || code === 'AddrNotAvailable' || code === 'ENOTFOUND' || code === 'EINVAL' || unresolved) {
    return new StartupError(`Cannot listen on ${host}: no such local address (${errorSummary(err)}): set HOST to an address of this machine (0.0.0.0 for all)`, 'HOST', code);
  }
  return null;
}

/** Throws the `listenFailure` of binding `port` on `host` now (then lets it go); port 0 always passes. */
export async function assertCanListen(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(listenFailure(err, port, host) ?? err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
