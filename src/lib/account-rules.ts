/**
 * What an account's email and password must be, shared by the API's schemas and the start-up
 * check of the bootstrap admin (`ADMIN_EMAIL`, `ADMIN_PASSWORD`), which must be able to sign in.
 */

/**
 * A deliberately plain email check (one `@`, no spaces, dot-separated host labels); the mail link
 * proves the rest. Single-label hosts are valid: the bootstrap admin is `admin@localhost`, and
 * self-hosted installs use intranet domains.
 */
export const EMAIL_PATTERN = '^[^\\s@]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$';
export const MAX_EMAIL = 254;

export const MIN_PASSWORD = 8;
/** Upper bound on passwords: argon2 hashes anything, but a 10 MB password is an attack, not a secret. */
export const MAX_PASSWORD = 1024;
