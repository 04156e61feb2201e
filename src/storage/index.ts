/** Builds the storage driver the config asks for. */
import { join } from 'node:path';
import type { Config } from '../config';
import { createFsStorage } from './fs';
import { createS3Storage } from './s3';
import type { StorageDriver } from './types';

export type { StorageDriver } from './types';

export async function createStorage(config: Config): Promise<StorageDriver> {
  if (config.storageDriver === 's3') {
    const { s3 } = config;
    if (!s3.bucket) throw new Error('S3_BUCKET must be set when STORAGE_DRIVER=s3');
    return createS3Storage({ ...s3, bucket: s3.bucket });
  }
  return createFsStorage(join(config.dataDir, 'files'));
}
