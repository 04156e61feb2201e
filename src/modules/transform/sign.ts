/**
 * Signed URLs (docs/TRANSFORMS.md, "Policy and limits"): `signature` = the first 24 characters of
 * base64url(HMAC-SHA256(secret, "<transformations>/<id>[.<ext>]")). The first secret signs,
 * every secret verifies (rotation), and the comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_LENGTH = 24;

/** The signed string: exactly the path after the signature, as the client sent it. */
export const signedPayload = (transformations: string, file: string) => `${transformations}/${file}`;

/** Signs `payload` with one secret. */
export function signPayload(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url').slice(0, SIGNATURE_LENGTH);
}

/** True when `signature` matches `payload` under any of `secrets`; every secret is tried so timing reveals nothing. */
export function verifySignature(secrets: readonly string[], payload: string, signature: string): boolean {
  const given = Buffer.from(signature);
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(signPayload(secret, payload));
    // Lengths are public (always 24); only equal-length buffers reach the constant-time compare.
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
