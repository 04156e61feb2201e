/**
 * Starts the HTTP server for the current runtime and gives the app the two socket-level
 * facts only the runtime knows: the peer address and a way to lift the idle timeout for a
 * long upload. Bun: `Bun.serve` (through Elysia's `listen`), with `reusePort` for WORKERS;
 * Deno: `Deno.serve(app.fetch)`.
 */
import type { AnyElysia } from 'elysia';
import { isBun } from './runtime';

export interface ServeOptions {
  port: number;
  hostname: string;
  /** Largest request body the runtime will accept at all (the biggest upload limit). */
  maxRequestBodySize: number;
  reusePort: boolean;
}

export interface HttpServer {
  port: number;
  /** Stops accepting connections and resolves when in-flight requests have finished. */
  stop(): Promise<void>;
}

interface SocketInfo {
  address(request: Request): string | undefined;
  disableIdleTimeout(request: Request): void;
}

let socket: SocketInfo = { address: () => undefined, disableIdleTimeout: () => {} };

/** The TCP peer address of a request, or undefined when not served over a socket (tests with `app.handle`). */
export const socketAddress = (request: Request): string | undefined => socket.address(request);
/** Lets a long upload run past the idle timeout. */
export const disableIdleTimeout = (request: Request): void => socket.disableIdleTimeout(request);

/** Idle timeout for ordinary requests; uploads lift it per request. Bun caps it at 255 s. */
const IDLE_TIMEOUT_S = 60;

export async function serve(app: AnyElysia, opts: ServeOptions): Promise<HttpServer> {
  if (isBun) {
    app.listen({
      port: opts.port,
      hostname: opts.hostname,
      reusePort: opts.reusePort,
      maxRequestBodySize: opts.maxRequestBodySize,
      idleTimeout: IDLE_TIMEOUT_S,
    });
    const server = app.server;
    if (!server) throw new Error('Bun server did not start');
    socket = {
      address: (request) => server.requestIP(request)?.address,
      disableIdleTimeout: (request) => server.timeout(request, 0),
    };
    return { port: server.port ?? opts.port, stop: () => server.stop() };
  }
  const { serveDeno } = await import('./deno');
  const { server, addresses } = await serveDeno(app.fetch, opts);
  socket = { address: (request) => addresses.get(request), disableIdleTimeout: () => {} };
  return server;
}
