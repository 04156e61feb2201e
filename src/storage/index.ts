/** Builds the storage driver the config asks for. */
import { join } from 'node:path';
import type { Config } from '../config';
import { errorCode, errorSummary, StartupError } from '../lib/startup';
import { startFileWriterThread } from '../platform/file-sink';
import { startHashThread } from '../platform/sha256';
import { createFsStorage } from './fs';
import type { StorageDriver } from './types';

export type { StorageDriver } from './types';

export async function createStorage(config: Config): Promise<StorageDriver> {
  // The upload helper threads (a JS runtime each, several MiB) start with the server, not
  // during the first big upload, whose memory they would otherwise seem to take.
  startHashThread();
  if (config.storageDriver === 's3') {
    const { s3 } = config;
    if (!s3.bucket) throw new StartupError('S3_BUCKET must be set when STORAGE_DRIVER=s3', 'S3_BUCKET');
    // The AWS SDK loads only for S3: on the fs driver it would only add to start-up.
    const { createS3Storage } = await import('./s3');
    const storage = createS3Storage({ ...s3, bucket: s3.bucket });
    await checkBucket(storage, s3.bucket, s3.endpoint);
    return storage;
  }
  startFileWriterThread();
  return createFsStorage(join(config.dataDir, 'files'));
}

/**
 * Fails start-up when the bucket cannot be used (HeadBucket, what `/health/ready` asks), naming
 * the variable to fix, rather than starting a server whose every upload would fail.
 */
async function checkBucket(storage: StorageDriver, bucket: string, endpoint: string | undefined): Promise<void> {
  try {
    await storage.health();
  } catch (err) {
    await storage.close();
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const where = `at ${endpoint ?? 'AWS S3 (S3_REGION)'}`;
    const [problem, variable] = status === 404 ? [`does not exist ${where}: create it, or set S3_BUCKET to an existing bucket`, 'S3_BUCKET']
      : status === 403 || status === 401 ? [`refused access ${where}: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY to keys allowed to use it`, 'S3_ACCESS_KEY_ID']
      : status ? [`answered HTTP ${status} ${where}: check S3_ENDPOINT, S3_REGION and S3_BUCKET`, 'S3_ENDPOINT']
      : [`is unreachable ${where} (${errorSummary(err)}): set S3_ENDPOINT to a reachable S3 service`, 'S3_ENDPOINT'];
    throw new StartupError(`S3 bucket "${bucket}" ${problem}`, variable, errorCode(err) ?? (status ? String(status) : undefined));
  }
}
