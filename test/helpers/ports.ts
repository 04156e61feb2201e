import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1, for servers that cannot take PORT=0: WORKERS>1 (each worker
 * would get its own port), MinIO and a test's own redis-server. Shared by tests and bench/.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
