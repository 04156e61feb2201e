/**
 * argon2id password hashing. Bun has it natively (`Bun.password`); elsewhere we use the wasm
 * implementation from `hash-wasm` with the same parameters, so both produce and accept the
 * same PHC strings (`$argon2id$v=19$m=65536,t=2,p=1$…`) and a database moves between runtimes.
 */
import { argon2id, argon2Verify } from 'hash-wasm';
import { isBun } from './runtime';

/** Bun's defaults, written out so the wasm path matches them. */
const MEMORY_KIB = 65536;
const TIME_COST = 2;

export async function hashPassword(password: string): Promise<string> {
  if (isBun) return Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: MEMORY_KIB, timeCost: TIME_COST });
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return argon2id({ password, salt, parallelism: 1, iterations: TIME_COST, memorySize: MEMORY_KIB, hashLength: 32, outputType: 'encoded' });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    if (isBun) return await Bun.password.verify(password, hash);
    return await argon2Verify({ password, hash });
  } catch {
    // A malformed stored hash is a failed verification, never a crash.
    return false;
  }
}
