/**
 * A TCP proxy in front of a real service (Postgres), which a test can cut (every connection
 * dropped, new ones refused, as when the database host goes away) and restore, without
 * touching the service other suites share.
 */
import { connect, createServer, type Socket } from 'node:net';
import { createTestDatabase, type TestDatabase } from './services';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /** Connections refused while cut, so far. */
  refused(): number;
  restore(): void;
  /**
   * Passes nothing on, either way, and leaves every connection open, new ones too (as a paused
   * database or a network that drops packets looks to its clients); `thaw` delivers what waited.
   */
  freeze(): void;
  thaw(): void;
  /**
   * On the next connection whose client sends `after` (e.g. an `insert into "files"`), the first
   * answer that holds `reply` (Postgres's CommandComplete `COMMIT`) is not passed on: the
   * connection is cut instead. The work is done; its client never hears so.
   */
  loseReply(after: Buffer, reply: Buffer): void;
  /**
   * On the next connection whose client sends `after` (e.g. a GET of one S3 key), or data it
   * matches, only the first `bytes` of the answer are passed on, then the connection is cut: a
   * body cut off mid-read.
   */
  cutAnswer(after: Buffer | ((sent: Buffer) => boolean), bytes: number): void;
  /** Answers cut so far by `cutAnswer`. */
  answersCut(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let frozen = false;
  let refusals = 0;
  let lose: { after: Buffer; reply: Buffer; on: Socket | null } | null = null;
  let cutting: { matches: (sent: Buffer) => boolean; left: number; on: Socket | null } | null = null;
  let cuts = 0;
  const server = createServer((client) => {
    if (refusing) {
      refusals++;
      return void client.destroy();
    }
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      if (frozen) s.pause();
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (data: Buffer) => {
      if (lose && !lose.on && data.includes(lose.after)) lose.on = client;
      if (cutting && !cutting.on && cutting.matches(data)) cutting.on = client;
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (lose?.on === client && data.includes(lose.reply)) {
        lose = null;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (cutting?.on === client && data.length >= cutting.left) {
        const last = data.subarray(0, cutting.left);
        cutting = null;
        cuts++;
        upstream.pause();
        client.end(last, () => upstream.destroy()); // those bytes delivered, then the cut
        return;
      }
      if (cutting?.on === client) cutting.left -= data.length;
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
    refused: () => refusals,
    restore() {
      refusing = false;
    },
    freeze() {
      frozen = true;
      for (const s of open) s.pause();
    },
    thaw() {
      frozen = false;
      for (const s of open) s.resume();
    },
    loseReply(after, reply) {
      lose = { after, reply, on: null };
    },
    answersCut: () => cuts,
    cutAnswer(after, bytes) {
      cutting = { matches: Buffer.isBuffer(after) ? (sent) => sent.includes(after) : after, left: bytes, on: null };
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A fresh test database and a proxy in front of it: `url` reaches the database through the proxy. */
export async function proxiedDatabase(): Promise<{ db: TestDatabase; proxy: TcpProxy; url: string }> {
  const db = await createTestDatabase();
  const direct = new URL(db.url);
  const proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
  direct.port = String(proxy.port);
  return { db, proxy, url: direct.toString() };
}
