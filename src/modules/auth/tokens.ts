/**
 * Access tokens: HS256 JWTs (jose) valid 15 minutes, carrying the user (`sub`), the user's
 * token version (`ver`, bumped by logout-all and password changes) and the session (`sid`,
 * the refresh-token family), so that each of those can kill a live token before it expires.
 * Opaque tokens (refresh, email links) are random base62 strings stored only as SHA-256.
 */
import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { randomString } from '../../lib/random';

export const ACCESS_TTL_S = 15 * 60;
export const REFRESH_TTL_S = 7 * 24 * 3600;
/** A session's absolute lifetime: rotation never extends it. */
export const FAMILY_TTL_S = 30 * 24 * 3600;

const AUDIENCE = 'pictor';

export interface AccessClaims {
  userId: string;
  tokenVersion: number;
  sessionId: string;
}

/** Encodes the secret once; jose wants bytes. */
export const jwtKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

export async function signAccessToken(key: Uint8Array, claims: AccessClaims, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ ver: claims.tokenVersion, sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TTL_S)
    .sign(key);
}

/** The claims of a valid, unexpired access token; null for anything else (never throws). */
export async function verifyAccessToken(key: Uint8Array, token: string, nowMs: number): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: AUDIENCE, currentDate: new Date(nowMs) });
    if (typeof payload.sub !== 'string' || typeof payload.ver !== 'number' || typeof payload.sid !== 'string') return null;
    return { userId: payload.sub, tokenVersion: payload.ver, sessionId: payload.sid };
  } catch {
    return null;
  }
}

/** A refresh token: `rt_` + 48 base62 characters (≈ 285 bits). */
export const generateRefreshToken = () => `rt_${randomString(48)}`;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The token that replaces `presented` on rotation: HMAC-SHA512 under the server's secret, in
 * the same `rt_` + 48 base62 form. Deriving it (instead of drawing it at random) lets a
 * concurrent use of the just-rotated token be answered with the same successor without
 * keeping any token in clear; without the secret it cannot be computed from `presented`.
 */
export function deriveRefreshToken(secret: string, presented: string): string {
  let n = BigInt(`0x${createHmac('sha512', secret).update(`pictor refresh successor\0${presented}`).digest('hex')}`);
  // 512 uniform bits, 48 base62 digits (≈ 286 bits) taken from them: no usable bias.
  let out = '';
  for (let i = 0; i < 48; i++) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return `rt_${out}`;
}
/** A mailed single-use token (verification, reset). */
export const generateMailToken = () => randomString(43);
/** The double-submit CSRF token. */
export const generateCsrfToken = () => randomString(32);

/** Looks like a JWT (three base64url parts), so API keys and junk skip verification. */
export const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
