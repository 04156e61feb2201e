/** Builds the storage driver the config asks for. */
import { join } from 'node:path';
import type { Config } from '../config';
import { StartupError } from '../lib/startup';
import { startFileWriterThread } from '../platform/file-sink';
import { startHashThread } from '../platform/sha256';
import { createFsStorage } from './fs';
import { describeS3Problem, S3SetupError } from './s3-problem';
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
    const { message, variable, code } = err instanceof S3SetupError ? err.problem : describeS3Problem(err, bucket, endpoint);
    throw new StartupError(message, variable, code);
  }
}
