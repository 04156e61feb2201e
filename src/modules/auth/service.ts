/**
 * Account flows of API.md §2: register, login, change/forgot/reset password, email
 * verification. Plain functions of `deps`; the routes translate HTTP to and from them.
 */
import { and, count, eq, gt, isNull } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/errors';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { accountBanned, conflict, emailNotVerified, unauthorized, validationError } from '../../errors';
import { sha256Hex } from '../../lib/random';
import { hashPassword, verifyPassword } from '../../platform/password';
import { claimInvite, inviteUsable } from '../invites/service';
import { normalizeEmail } from '../users/model';
import { users, type UserRow } from '../users/table';
import { sendInBackground } from './mail';
import { createSession, revokeAllSessions, type ClientMeta, type IssuedSession } from './sessions';
import { emailTokens } from './table';
import { generateMailToken } from './tokens';

const RESET_TTL_MS = 3600_000;
/** Open reset links (unused, within their hour) an account can have: more requests mail nothing, however many addresses ask. */
const OPEN_RESET_LINKS = 3;
const VERIFY_TTL_MS = 48 * 3600_000;

export interface RegisterInput {
  email: string;
  password: string;
  inviteCode?: string;
}

/** Creates an account; returns the user and, unless email verification is required, a session. */
export async function register(deps: AppDeps, input: RegisterInput, meta: ClientMeta): Promise<{ user: UserRow; session: IssuedSession | null }> {
  const { config } = deps;
  if (config.inviteOnly && !input.inviteCode) {
    throw validationError('Registration is by invitation: send invite_code.', [{ path: '/invite_code', message: 'is required' }]);
  }
  // A code is checked before anything else: a taken email answered 409 to anyone, invited or
  // not (which addresses have accounts), after the password's hash had been paid for.
  const code = input.inviteCode === undefined || input.inviteCode === '' ? undefined : input.inviteCode;
  const badCode = () => validationError('This invite code is invalid, used or expired.', [{ path: '/invite_code', message: 'is invalid, used or expired' }]);
  if (code !== undefined && !(await inviteUsable(deps.db, code, new Date(deps.clock.now())))) throw badCode();
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  let user: UserRow;
  try {
    user = await deps.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(users)
        .values({ email, passwordHash, emailVerified: !config.requireEmailVerification })
        .returning();
      if (!created) throw new Error('user insert returned no row');
      // Claimed in the same transaction: a taken email gives the code back, a code claimed since
      // it was checked creates no user. A code sent while registration is open is checked and used
      // up too: it was dropped unread, so a mistyped one said nothing and its inviter's list kept
      // showing it as unused.
      if (code !== undefined && !(await claimInvite(tx, code, created.id, new Date(deps.clock.now())))) throw badCode();
      return created;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('An account with this email already exists.');
    throw err;
  }
  if (config.requireEmailVerification) {
    await sendVerificationMail(deps, user);
    return { user, session: null };
  }
  return { user, session: await createSession(deps, user, meta) };
}

/** Checks the password in constant work whether or not the email exists; one answer for both failures. */
export async function login(deps: AppDeps, input: { email: string; password: string }, meta: ClientMeta) {
  const [user] = await deps.db.select().from(users).where(eq(users.email, normalizeEmail(input.email))).limit(1);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await deps.decoyPasswordHash));
  if (!user || !ok) throw unauthorized('Invalid email or password.');
  if (user.isBanned) throw accountBanned();
  if (deps.config.requireEmailVerification && !user.emailVerified) throw emailNotVerified();
  return { user, session: await createSession(deps, user, meta) };
}

/** Changes the password, ends every session (this one too) and every open reset link, and returns a fresh session. */
export async function changePassword(deps: AppDeps, userId: string, current: string, next: string, meta: ClientMeta) {
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) throw unauthorized();
  if (!(await verifyPassword(current, user.passwordHash))) {
    throw validationError('The current password is incorrect.', [{ path: '/current_password', message: 'is incorrect' }]);
  }
  // Said rather than done: "changed" would be untrue, and every session would end for nothing.
  if (next === current) throw validationError('The new password is the current one: choose another.', [{ path: '/new_password', message: 'must differ from the current password' }]);
  const tokenVersion = await revokeAllSessions(deps, userId, { passwordHash: await hashPassword(next) });
  // Read again: the row read first answered with the `updated_at` from before the change.
  const [changed] = await deps.db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!changed) throw unauthorized();
  return { user: changed, session: await createSession(deps, { id: userId, tokenVersion }, meta) };
}

async function createMailToken(deps: AppDeps, userId: string, kind: 'verify' | 'reset', ttlMs: number, db: DbOrTx = deps.db): Promise<string> {
  const token = generateMailToken();
  await db.insert(emailTokens).values({
    userId, kind, tokenHash: await sha256Hex(token), expiresAt: new Date(deps.clock.now() + ttlMs),
  });
  return token;
}

/** Appends the token to a link base (the caller's `redirect_to`, or PUBLIC_URL + path). */
/** `base` with `token=` in its query, before any fragment (`/app#x?token=` put it in the fragment, where the server never sees it). */
const linkWith = (base: string, token: string) => {
  const hash = base.indexOf('#');
  const [path, fragment] = hash === -1 ? [base, ''] : [base.slice(0, hash), base.slice(hash)];
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}${fragment}`;
};

export async function sendVerificationMail(deps: AppDeps, user: Pick<UserRow, 'id' | 'email'>): Promise<void> {
  const token = await createMailToken(deps, user.id, 'verify', VERIFY_TTL_MS);
  const link = linkWith(`${deps.config.publicUrl}/verify-email`, token);
  sendInBackground(deps, {
    to: user.email,
    subject: 'Confirm your email address',
    text: `Confirm your email address for your Pictor account:\n\n${link}\n\nOr POST {"token": "${token}"} to /api/auth/verify-email. The link is valid for 48 hours.`,
  });
}

/**
 * Mails a reset link when the account exists. The caller answers 202 at once: the lookup and
 * the mail happen afterwards, so neither timing nor errors reveal whether the account exists.
 */
export function requestPasswordReset(deps: AppDeps, email: string, redirectTo: string | undefined): void {
  void (async () => {
    const [user] = await deps.db.select().from(users).where(eq(users.email, normalizeEmail(email))).limit(1);
    if (!user || user.isBanned) return;
    // Per account, whatever the addresses asking: the per-IP bucket alone let many addresses fill
    // one inbox. With its open links at the cap (a link lasts an hour), the request is answered
    // alike and no mail goes; the links sent still work, and using one (or a new password) ends
    // them all, so the next request is mailed again. Under the account row's lock, so that
    // requests at once cannot all count the same links.
    const token = await deps.db.transaction(async (tx) => {
      const [locked] = await tx.select({ id: users.id }).from(users).where(eq(users.id, user.id)).for('no key update');
      if (!locked) return null; // deleted meanwhile
      const [open] = await tx.select({ n: count() }).from(emailTokens)
        .where(and(eq(emailTokens.userId, user.id), eq(emailTokens.kind, 'reset'), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, new Date(deps.clock.now()))));
      return (open?.n ?? 0) >= OPEN_RESET_LINKS ? null : createMailToken(deps, user.id, 'reset', RESET_TTL_MS, tx);
    });
    if (!token) {
      deps.log.info({ user_id: user.id }, `password reset mail not sent: the account already has ${OPEN_RESET_LINKS} open reset links, or is gone`);
      return;
    }
    const link = linkWith(redirectTo ?? `${deps.config.publicUrl}/reset-password`, token);
    sendInBackground(deps, {
      to: user.email,
      subject: 'Reset your password',
      text: `Someone asked to reset the password of your Pictor account. If it was you, open:\n\n${link}\n\nOr POST {"token": "${token}", "new_password": "…"} to /api/auth/reset-password. The link is valid for one hour and works once. If it was not you, ignore this mail.`,
    });
  })().catch((err: unknown) => deps.log.error({ err }, 'password reset request failed'));
}

/** Consumes a mailed token with a guarded update: valid, unexpired and unused, exactly once. */
async function consumeMailToken(deps: AppDeps, token: string, kind: 'verify' | 'reset'): Promise<string> {
  const now = new Date(deps.clock.now());
  const [row] = await deps.db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.tokenHash, await sha256Hex(token)), eq(emailTokens.kind, kind), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, now)))
    .returning({ userId: emailTokens.userId });
  if (!row) throw validationError('This link is invalid, used or expired.', [{ path: '/token', message: 'is invalid, used or expired' }]);
  return row.userId;
}

/** Sets a new password from a reset link; every session of the account ends, and every other open reset link. */
export async function resetPassword(deps: AppDeps, token: string, newPassword: string): Promise<void> {
  const passwordHash = await hashPassword(newPassword);
  const userId = await consumeMailToken(deps, token, 'reset');
  // The mailbox owner proved control of the address, so it counts as verified too.
  await revokeAllSessions(deps, userId, { passwordHash, emailVerified: true });
}

/** Marks the address confirmed. */
export async function verifyEmail(deps: AppDeps, token: string): Promise<UserRow> {
  const userId = await consumeMailToken(deps, token, 'verify');
  const [user] = await deps.db
    .update(users)
    .set({ emailVerified: true, updatedAt: new Date(deps.clock.now()) })
    .where(eq(users.id, userId))
    .returning();
  if (!user) throw unauthorized();
  await deps.credentials.invalidateUser(userId);
  return user;
}
