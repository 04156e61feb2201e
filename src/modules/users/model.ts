/** JSON shapes of accounts (API.md §2, §3). */
import { t } from 'elysia';
import type { CachedUser } from '../auth/credentials';

export const UserSchema = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    email: t.String(),
    role: t.Union([t.Literal('user'), t.Literal('admin')]),
    is_promoted: t.Boolean(),
    email_verified: t.Boolean(),
    created_at: t.String({ description: 'ISO-8601 UTC' }),
    updated_at: t.String({ description: 'ISO-8601 UTC' }),
  },
  { title: 'User' },
);

/** The public JSON of a user row (never the hash, never the ban flag of someone else). */
export function toUserJson(u: CachedUser) {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    is_promoted: u.isPromoted,
    email_verified: u.emailVerified,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

/**
 * Emails are compared and stored trimmed, lower-cased and in Unicode NFC: `josé` typed with a
 * combining accent (NFD) and with the precomposed letter made two accounts that look the same.
 */
export const normalizeEmail = (email: string) => email.trim().normalize('NFC').toLowerCase();

