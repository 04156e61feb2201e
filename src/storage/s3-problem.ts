/**
 * What an S3 error says about the storage's setup, in an operator's words and with the variable
 * to fix: said by start-up (refusing to start) and by `/health/ready` (a bucket deleted or keys
 * revoked while running).
 */
import { errorCode, errorSummary } from '../lib/startup';

export interface S3Problem {
  /** `S3 bucket "x" does not exist at …: create it, or set S3_BUCKET …` */
  message: string;
  variable: 'S3_BUCKET' | 'S3_ACCESS_KEY_ID' | 'S3_ENDPOINT';
  /** The S3 error code or connection error (`NoSuchBucket`, `ECONNREFUSED`), or the HTTP status. */
  code: string | undefined;
}

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

export function describeS3Problem(err: unknown, bucket: string, endpoint: string | undefined): S3Problem {
  const status = statusOf(err);
  const where = `at ${endpoint ?? 'AWS S3 (S3_REGION)'}`;
  const name = errorCode(err);
  // HeadBucket has no body: a missing bucket is its bare 404 (`NotFound`).
  const [problem, variable]: [string, S3Problem['variable']] = name === 'NoSuchBucket' || status === 404
    ? [`does not exist ${where}: create it, or set S3_BUCKET to an existing bucket`, 'S3_BUCKET']
    : status === 403 || status === 401 ? [`refused access ${where}: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY to keys allowed to use it`, 'S3_ACCESS_KEY_ID']
      : status ? [`answered HTTP ${status} ${where}: check S3_ENDPOINT, S3_REGION and S3_BUCKET`, 'S3_ENDPOINT']
        : [`is unreachable ${where} (${errorSummary(err)}): set S3_ENDPOINT to a reachable S3 service`, 'S3_ENDPOINT'];
  return { message: `S3 bucket "${bucket}" ${problem}`, variable, code: name ?? (status ? String(status) : undefined) };
}

/** A failed HeadBucket, with what it means (`/health/ready` shows the message). */
export class S3SetupError extends Error {
  constructor(readonly problem: S3Problem, cause: unknown) {
    super(problem.message, { cause });
    this.name = 'S3SetupError';
  }
}
