/** Builds the storage driver the config asks for. */
import { join } from 'node:path';
import type { Config } from '../config';
import { startFileWriterThread } from '../platform/file-sink';
import { startHashThread } from '../platform/sha256';
import { createFsStorage } from './fs';
import { createS3Storage } from './s3';
import type { StorageDriver } from './types';

export type { StorageDriver } from './types';

export async function createStorage(config: Config): Promise<StorageDriver> {
  // The upload helper threads (a JS runtime each, several MiB) start with the server, not
  // during the first big upload, whose memory they would otherwise seem to take.
  startHashThread();
  if (config.storageDriver === 's3') {
    const { s3 } = config;
    if (!s3.bucket) throw new Error('S3_BUCKET must be set when STORAGE_DRIVER=s3');
    return createS3Storage({ ...s3, bucket: s3.bucket });
  }
  startFileWriterThread();
  return createFsStorage(join(config.dataDir, 'files'));
}
