/**
 * The Deno side of `serve`: `Deno.serve` with the same app handler. Deno's types are declared
 * minimally here so the Bun-typed project still type-checks.
 */
import type { HttpServer, ServeOptions } from './server';

interface DenoServeInfo { remoteAddr: { hostname: string } }
interface DenoHttpServer { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number } }
declare const Deno: {
  serve(
    options: { port: number; hostname: string; reusePort?: boolean; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
};

export async function serveDeno(
  fetch: (request: Request) => Response | Promise<Response>,
  opts: ServeOptions,
): Promise<{ server: HttpServer; addresses: WeakMap<Request, string> }> {
  const addresses = new WeakMap<Request, string>();
  // Deno's shutdown() makes the body of a request still being received unreadable ("underlying
  // resource unavailable"): an upload in flight at SIGTERM was lost (answered 499). So stopping
  // first drains: new requests get a 503, the handlers in flight return, and only then does
  // shutdown() close the connections (a response body still streaming then has SHUTDOWN_LINGER_MS).
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;
  const server = Deno.serve(
    { port: opts.port, hostname: opts.hostname, reusePort: opts.reusePort, onListen: () => {} },
    async (request, info) => {
      if (draining) return overloadedWhileStopping();
      addresses.set(request, info.remoteAddr.hostname);
      inFlight++;
      try {
        return await fetch(request);
      } finally {
        if (--inFlight === 0) drained?.();
      }
    },
  );
  const stop = async () => {
    draining = true;
    if (inFlight > 0) await new Promise<void>((r) => (drained = r));
    // Every handler has answered; what is left is idle keep-alive connections, or one whose
    // client never sent the body it declared (answered 408): shutdown() waited on that for good.
    await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, SHUTDOWN_LINGER_MS))]);
  };
  return { server: { port: server.addr.port, stop }, addresses };
}

/** How long shutdown() may take once no request is in flight. */
const SHUTDOWN_LINGER_MS = 1000;

function overloadedWhileStopping(): Response {
  const body = JSON.stringify({ error: 'OVERLOADED', message: 'The server is stopping; retry on another instance, or here shortly.', details: { retry_after: 1 } });
  return new Response(body, {
    status: 503,
    headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', 'x-content-type-options': 'nosniff' },
  });
}
