/** Request and response schemas of the auth routes (API.md §2). */
import type { TObject, TProperties } from '@sinclair/typebox';
import { t } from 'elysia';
import { validationError } from '../../errors';
import { SCOPES } from '../keys/scopes';
import { EMAIL_PATTERN, MAX_EMAIL, MAX_PASSWORD, MIN_PASSWORD } from '../../lib/account-rules';
import { UserSchema } from '../users/model';

export { MAX_PASSWORD };

export const Email = t.String({ pattern: EMAIL_PATTERN, maxLength: MAX_EMAIL, description: 'Email address', examples: ['ada@example.com'], error: 'must be a valid email address' });
/** The sample password of the documentation's examples (`/docs` "Try it" signs in with it). */
export const EXAMPLE_PASSWORD = 'correct horse battery staple';
export const NewPassword = t.String({ minLength: MIN_PASSWORD, maxLength: MAX_PASSWORD, description: '8 to 1024 characters', examples: [EXAMPLE_PASSWORD], error: 'must be 8 to 1024 characters' });
const AnyPassword = t.String({ minLength: 1, maxLength: MAX_PASSWORD, examples: [EXAMPLE_PASSWORD], error: 'must be 1 to 1024 characters' });
const Token = t.String({ minLength: 1, maxLength: 256 });

/**
 * Elysia's `normalize` silently drops unknown body fields; the contract wants them refused, so
 * `strict` rejects them in `transform` (before validation) with the usual 400 envelope.
 */
export function strict<P extends TProperties>(schema: TObject<P>) {
  return {
    body: schema,
    transform({ body }: { body: unknown }) {
      if (!body || typeof body !== 'object' || Array.isArray(body)) return;
      const unknown = Object.keys(body).filter((k) => !(k in schema.properties));
      if (unknown.length) {
        throw validationError(`Unknown field ${unknown[0]}.`, unknown.map((k) => ({ path: `/${k}`, message: 'is not a known field' })));
      }
    },
  };
}

const obj = <P extends TProperties>(p: P, description?: string) => t.Object(p, { additionalProperties: false, ...(description ? { description } : {}) });

export const RegisterBody = obj({ email: Email, password: NewPassword, invite_code: t.Optional(t.String({ maxLength: 64 })) });
export const LoginBody = obj({ email: Email, password: AnyPassword });
export const RefreshBody = obj({ refresh_token: t.Optional(Token) }, 'Omit to use the `pictor_refresh` cookie.');
export const ChangePasswordBody = obj({ current_password: AnyPassword, new_password: NewPassword });
export const ForgotPasswordBody = obj({
  email: Email,
  redirect_to: t.Optional(t.String({ maxLength: 2048, description: 'Link base for the mail, on the origin of PUBLIC_URL or one in `ALLOWED_REDIRECT_ORIGINS` (others → 400); `?token=…` is appended. Default: the `/reset-password` page of this server.' })),
});
export const ResetPasswordBody = obj({ token: Token, new_password: NewPassword });
export const VerifyEmailBody = obj({ token: Token });

export const SessionSchema = t.Object(
  {
    access_token: t.String(),
    refresh_token: t.String(),
    expires_in: t.Integer({ description: 'Seconds until the access token expires.' }),
    expires_at: t.String(),
    token_type: t.Literal('bearer'),
  },
  { title: 'Session' },
);

export const AuthResult = t.Object({ user: UserSchema, session: SessionSchema });
export const RegisterResult = t.Object({
  user: UserSchema,
  session: t.Optional(SessionSchema),
  message: t.Optional(t.String({ description: 'Set instead of `session` when email verification is required.' })),
});
export const Accepted = t.Object({ message: t.String() });

const ScopeSchema = t.Union(SCOPES.map((s) => t.Literal(s)));
export const CreateKeyBody = obj({
  name: t.Optional(t.Union([t.String({ maxLength: 100, examples: ['ci uploader'], description: 'What uses the key; surrounding spaces are removed, and a blank name is none.' }), t.Null()])),
  scopes: t.Optional(t.Array(ScopeSchema, { uniqueItems: true, maxItems: SCOPES.length, examples: [['files:read', 'files:write']] })),
  expires_at: t.Optional(t.Union([t.String({ format: 'date-time', description: 'In the future and at most 100 years ahead (else 400).' }), t.Null()])),
});
export const UpdateKeyBody = obj({
  name: t.Optional(t.Union([t.String({ maxLength: 100, description: 'Surrounding spaces are removed; a blank name is none.' }), t.Null()])),
  scopes: t.Optional(t.Array(ScopeSchema, { uniqueItems: true, maxItems: SCOPES.length })),
});
export const ApiKeySchema = t.Object(
  {
    id: t.String(),
    key_prefix: t.String(),
    name: t.Union([t.String(), t.Null()]),
    scopes: t.Array(t.String()),
    created_at: t.String(),
    last_used_at: t.Union([t.String(), t.Null()]),
    expires_at: t.Union([t.String(), t.Null()]),
  },
  { title: 'ApiKey' },
);
export const CreatedKeySchema = t.Object({
  id: t.String(),
  key: t.String({ description: 'The key itself; shown this once.' }),
  key_prefix: t.String(),
  name: t.Union([t.String(), t.Null()]),
  scopes: t.Array(t.String()),
  created_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()]),
});

