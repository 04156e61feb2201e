/** The scopes of API.md §2. A key created without `scopes` gets all but `admin`. */
export const SCOPES = [
  'files:read', 'files:write', 'files:delete', 'transform:sign', 'cache:write',
  'queue:read', 'queue:write', 'account:read', 'account:write', 'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

export const DEFAULT_KEY_SCOPES: Scope[] = SCOPES.filter((s) => s !== 'admin');

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);
