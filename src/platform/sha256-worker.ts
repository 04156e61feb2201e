/**
 * The hashing thread of `sha256.ts`: one streaming SHA-256 per stream (`block-worker.ts`
 * protocol), or, for a stream with `resume` (a tus upload's chunk), the upload's running hash
 * continued from its offset (`resumable-sha256.ts`).
 */
import { createHash, type Hash } from 'node:crypto';
import { serveBlocks } from './block-worker';
import { endHash, resumeHash, updateHash, type ResumedHash } from './resumable-sha256';

type State = { plain: Hash } | { resumed: ResumedHash };

serveBlocks<State>({
  open: (fields) => (fields.resume !== undefined ? { resumed: resumeHash(fields.resume, fields.base ?? 0) } : { plain: createHash('sha256') }),
  block: (s, bytes) => void ('plain' in s ? s.plain.update(bytes) : updateHash(s.resumed, bytes)),
  end: (s) => ('plain' in s ? s.plain.digest('hex') : endHash(s.resumed)),
});
