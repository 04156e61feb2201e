/** The API key scopes of API.md §2, each with the one line a person needs to choose it. */
export const SCOPE_HELP: { scope: string; meaning: string; adminOnly?: boolean }[] = [
  { scope: 'files:read', meaning: 'List files and folders, read a file’s details and metadata.' },
  { scope: 'files:write', meaning: 'Upload files, create folders, rename, move, publish, make presigned upload URLs.' },
  { scope: 'files:delete', meaning: 'Delete files and folders.' },
  { scope: 'transform:sign', meaning: 'Make signed URLs (private files, transformations the server does not allow openly).' },
  { scope: 'cache:write', meaning: 'Drop the cached transformations of a file so they are rendered again.' },
  { scope: 'queue:read', meaning: 'See your background jobs and their progress.' },
  { scope: 'queue:write', meaning: 'Retry, cancel or delete your background jobs.' },
  { scope: 'account:read', meaning: 'Read your profile, settings, usage and request log.' },
  { scope: 'account:write', meaning: 'Change your account settings.' },
  { scope: 'admin', meaning: 'Administer the server: users, invites, moderation. Only admins can grant it.', adminOnly: true },
];

export interface ApiKey {
  id: string;
  key_prefix: string;
  name: string | null;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

export interface CreatedKey extends Omit<ApiKey, 'last_used_at'> {
  key: string;
}

