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
  const server = Deno.serve(
    { port: opts.port, hostname: opts.hostname, reusePort: opts.reusePort, onListen: () => {} },
    (request, info) => {
      addresses.set(request, info.remoteAddr.hostname);
      return fetch(request);
    },
  );
  return { server: { port: server.addr.port, stop: () => server.shutdown() }, addresses };
}
