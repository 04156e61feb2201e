/**
 * Access tokens: HS256 JWTs (jose) valid 15 minutes, carrying the user (`sub`), the user's
 * token version (`ver`, bumped by logout-all and password changes) and the session (`sid`,
 * the refresh-token family), so that each of those can kill a live token before it expires.
 * Opaque tokens (refresh, email links) are random base62 strings stored only as SHA-256.
 */
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
/** A mailed single-use token (verification, reset). */
export const generateMailToken = () => randomString(43);
/** The double-submit CSRF token. */
export const generateCsrfToken = () => randomString(32);

/** Looks like a JWT (three base64url parts), so API keys and junk skip verification. */
export const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
