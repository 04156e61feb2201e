/**
 * A TCP proxy in front of a real service (Postgres), which a test can cut (every connection
 * dropped, new ones refused, as when the database host goes away) and restore, without
 * touching the service other suites share.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  restore(): void;
  /**
   * The next time the service's answer holds `reply` (e.g. Postgres's CommandComplete `COMMIT`),
   * that connection is cut instead of passing it on: the work is done, its client never hears so.
   */
  loseNextReply(reply: Buffer): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let lose: Buffer | null = null;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      if (lose && data.includes(lose)) {
        lose = null;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(data);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    loseNextReply(reply) {
      lose = reply;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}
