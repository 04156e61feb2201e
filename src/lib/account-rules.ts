/**
 * What an account's email and password must be, shared by the API's schemas and the start-up
 * check of the bootstrap admin (`ADMIN_EMAIL`, `ADMIN_PASSWORD`), which must be able to sign in.
 */

/**
 * A deliberately plain email check (one `@`, dot-separated host labels); the mail link proves
 * the rest. Single-label hosts are valid: the bootstrap admin is `admin@localhost`, and
 * self-hosted installs use intranet domains. The local part takes no space, no control or
 * invisible character (zero-width, bidirectional marks: `admin<U+200B>@…` looked exactly like
 * `admin@…` in the admin's user list) and none of `<>()[]\,;:"`, which need quoting in mail.
 */
export const EMAIL_PATTERN = '^[^\\s@<>()\\[\\]\\\\,;:"\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$';
export const MAX_EMAIL = 254;

export const MIN_PASSWORD = 8;
/** Upper bound on passwords: argon2 hashes anything, but a 10 MB password is an attack, not a secret. */
export const MAX_PASSWORD = 1024;
