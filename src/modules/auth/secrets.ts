/**
 * Server secrets: the access-token key (`JWT_SECRET`) and the signed-URL keys
 * (`SIGNING_SECRETS`). When one is not configured it is generated once into
 * `DATA_DIR/secrets.json` (mode 0600) with a warning, so restarts keep sessions and signed URLs
 * valid. Several processes booting together agree: the file is created exclusively and
 * whoever loses the race reads the winner's file.
 */
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config';
import { randomString } from '../../lib/random';
import type { Logger } from '../../logger';

export interface Secrets {
  /** HS256 key of access JWTs. */
  jwtSecret: string;
  /** Signed-URL keys: the first signs, every one verifies (rotation). */
  signingSecrets: string[];
}

interface SecretsFile {
  jwt_secret?: string;
  signing_secrets?: string[];
}

const SECRET_CHARS = 48; // ≈ 285 bits of base62

async function readSecretsFile(path: string): Promise<SecretsFile | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as SecretsFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${path} is unreadable or not JSON; fix or delete it: ${(err as Error).message}`);
  }
}

/** Returns the configured secrets, generating and persisting the missing ones. */
export async function loadSecrets(config: Config, log?: Logger): Promise<Secrets> {
  if (config.jwtSecret && config.signingSecrets) {
    return { jwtSecret: config.jwtSecret, signingSecrets: config.signingSecrets };
  }
  const path = join(config.dataDir, 'secrets.json');
  let stored = await readSecretsFile(path);
  const complete = (s: SecretsFile | null) => Boolean(s?.jwt_secret && s.signing_secrets?.length);
  if (!complete(stored)) {
    const generated: SecretsFile = {
      jwt_secret: stored?.jwt_secret ?? randomString(SECRET_CHARS),
      signing_secrets: stored?.signing_secrets?.length ? stored.signing_secrets : [randomString(SECRET_CHARS)],
    };
    // Written to a temp file, then published atomically: `link` fails when another process
    // already published, so of several racing processes exactly one wins and nobody reads half a file.
    const tmp = `${path}.${process.pid}.${randomString(8)}.tmp`;
    await writeFile(tmp, JSON.stringify(generated, null, 2), { mode: 0o600 });
    try {
      if (stored) await rename(tmp, path);
      else await link(tmp, path);
      stored = generated;
      log?.warn(
        { path, missing: [!config.jwtSecret && 'JWT_SECRET', !config.signingSecrets && 'SIGNING_SECRETS'].filter(Boolean) },
        'Generated missing secrets into DATA_DIR/secrets.json; set JWT_SECRET and SIGNING_SECRETS when running several hosts.',
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      stored = await readSecretsFile(path);
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }
  return {
    jwtSecret: config.jwtSecret ?? (stored?.jwt_secret as string),
    signingSecrets: config.signingSecrets ?? (stored?.signing_secrets as string[]),
  };
}
