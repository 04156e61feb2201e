/**
 * The S3 SDK's HTTP handler for this runtime. On Bun, requests go out through its native
 * `fetch`, whose socket writes run on Bun's HTTP client thread: through node:http (the SDK's
 * default) the request thread paid ~0.5 s more CPU per GiB and raw uploads to S3 ran ~18 %
 * slower (docs/TUNING.md, "Storage"). Bun's `fetch` also takes the node `Readable` bodies of
 * parts streamed while they fill (storage/s3-parts.ts `sendLive`). Elsewhere: the SDK's default.
 */
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { isBun } from './runtime';

export const s3RequestHandler = (): FetchHttpHandler | undefined => (isBun ? new FetchHttpHandler() : undefined);
