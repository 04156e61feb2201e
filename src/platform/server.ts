/**
 * Starts the HTTP server for the current runtime and gives the app the two socket-level
 * facts only the runtime knows: the peer address and a way to lift the idle timeout for a
 * long upload. Bun: `Bun.serve` with `reusePort` for WORKERS;
 * Deno: `Deno.serve` with the same handler.
 */
import { isBun, isDeno } from './runtime';
import { lingerOnClose } from './linger';
import { inOneWrite } from './small-body';

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

/** Peer addresses kept past the response (`keepSocketAddress`); Bun forgets them once it is sent. */
const kept = new WeakMap<Request, string>();

/** The TCP peer address of a request, or undefined when not served over a socket (tests with `app.handle`). */
export const socketAddress = (request: Request): string | undefined => kept.get(request) ?? socket.address(request);

/**
 * Reads the peer address now and keeps it for observers that run after the response (request
 * logs): Bun's `requestIP` answers null once the response is sent. Only requests that will be
 * logged pay for it.
 */
export function keepSocketAddress(request: Request): void {
  const address = socket.address(request);
  if (address !== undefined) kept.set(request, address);
}

/** Gives a request made from another (`new Request(url, original)`) the original's peer address. */
export function keepSocketAddressOf(copy: Request, original: Request): void {
  const address = kept.get(original) ?? socket.address(original);
  if (address !== undefined) kept.set(copy, address);
}
/**
 * Whether a request failed because its client disconnected (an upload cut off): Bun aborts the
 * request's signal; Deno fails the body read (`BadResource`, `Http`) and aborts the signal only
 * later. Such failures are the client's doing, not errors of the server.
 */
export function clientDisconnected(request: Request, error: unknown): boolean {
  if (request.signal.aborted) return true;
  if (!isDeno || request.body === null) return false;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'BadResource' || name === 'Http';
}

/** Lets a long upload run past the idle timeout. */
export const disableIdleTimeout = (request: Request): void => socket.disableIdleTimeout(request);

/** RFC 9110 §6.6.1: a server with a clock sends Date; Bun 1.4 leaves it out of HEAD answers only. */
function withDate(res: Response | Promise<Response>): Response | Promise<Response> {
  const add = (r: Response) => {
    if (!r.headers.has('date')) {
      try {
        r.headers.set('date', new Date().toUTCString());
      } catch {
        // immutable headers (a Response.error()): sent as they are
      }
    }
    return r;
  };
  return res instanceof Promise ? res.then(add) : add(res);
}

/** Idle timeout for ordinary requests; uploads lift it per request. Bun caps it at 255 s. */
const IDLE_TIMEOUT_S = 60;

/**
 * Serves one fetch handler (app.ts `createHandler`: the fast path in front of the app). Not
 * Elysia's `app.listen`, which hands each route to Bun's router and so would bypass the
 * handler's front (test/transform/transform.e2e.test.ts checks the fast path answers).
 */
export async function serve(fetch: (request: Request) => Response | Promise<Response>, opts: ServeOptions): Promise<HttpServer> {
  if (isBun) {
    const server = Bun.serve({
      port: opts.port,
      hostname: opts.hostname,
      reusePort: opts.reusePort,
      maxRequestBodySize: opts.maxRequestBodySize,
      idleTimeout: IDLE_TIMEOUT_S,
      development: false,
      // An answer made after an `await` would leave one header piece per send (small-body.ts).
      fetch: (request) => {
        const linger = lingerOnClose(request);
        const res = fetch(request);
        const answer = request.method === 'HEAD' ? withDate(res) : res instanceof Promise ? res.then(inOneWrite) : res;
        return linger ? Promise.resolve(answer).then(linger) : answer;
      },
    });
    socket = {
      address: (request) => server.requestIP(request)?.address,
      disableIdleTimeout: (request) => server.timeout(request, 0),
    };
    return { port: server.port ?? opts.port, stop: () => server.stop() };
  }
  const { serveDeno } = await import('./deno');
  const { server, addresses } = await serveDeno(fetch, opts);
  socket = { address: (request) => addresses.get(request), disableIdleTimeout: () => {} };
  return server;
}
