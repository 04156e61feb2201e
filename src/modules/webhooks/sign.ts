/**
 * The webhook signature scheme: Standard Webhooks (standardwebhooks.com), so receivers can use
 * its libraries or a few lines of their own.
 *
 *   webhook-id:        the event id (the same on every retry of one event: dedupe by it)
 *   webhook-timestamp: Unix seconds of this attempt (reject ones far from your clock: replay)
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>
 *
 * The endpoint's secret is `whsec_<base64 key>`; the HMAC key is the base64-decoded part.
 * Several space-separated signatures may appear (secret rotation); any one valid suffices.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

const keyOf = (secret: string) => Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

type Rotated = { previousSecret: string | null; previousSecretUntil: Date | null };

/**
 * The secrets rotations left signing, each with its own end (ms): `previousSecret` holds them as
 * `secret@untilMs`, space-separated, newest first; one without `@` (a single rotation's, as
 * stored before) ends at `previousSecretUntil`.
 */
export function previousSecrets(hook: Rotated): { secret: string; until: number }[] {
  if (!hook.previousSecret || !hook.previousSecretUntil) return [];
  const latest = hook.previousSecretUntil.getTime();
  return hook.previousSecret.split(' ').map((entry) => {
    const at = entry.lastIndexOf('@');
    return at < 0 ? { secret: entry, until: latest } : { secret: entry.slice(0, at), until: Number(entry.slice(at + 1)) };
  });
}

/** The `webhook-signature` of one attempt: by the secret, and by each previous one until its end. */
export function signatures(hook: { secret: string } & Rotated, id: string, timestamp: number, body: string, at: Date): string {
  const previous = previousSecrets(hook).filter((p) => p.until > at.getTime()).map((p) => p.secret);
  return [hook.secret, ...previous].map((s) => signWebhook(s, id, timestamp, body)).join(' ');
}

/** True when one of the header's signatures matches (what a receiver does; used by the tests too). */
export function verifyWebhook(secret: string, id: string, timestamp: number, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body));
  return header.split(' ').some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
