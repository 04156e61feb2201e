/** The hashing thread of `sha256.ts`: one streaming SHA-256 per stream (`block-worker.ts` protocol). */
import { createHash, type Hash } from 'node:crypto';
import { serveBlocks } from './block-worker';

serveBlocks<Hash>({
  open: () => createHash('sha256'),
  block: (hash, bytes) => void hash.update(bytes),
  end: (hash) => hash.digest('hex'),
});
