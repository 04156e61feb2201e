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

/**
 * The `webhook-signature` of one attempt: by the secret, and by the previous ones while they still
 * sign (after rotations; `previousSecret` holds them space-separated, newest first).
 */
export function signatures(
  hook: { secret: string; previousSecret: string | null; previousSecretUntil: Date | null }, id: string, timestamp: number, body: string, at: Date,
): string {
  const previous = hook.previousSecret && hook.previousSecretUntil && hook.previousSecretUntil > at ? hook.previousSecret.split(' ') : [];
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
