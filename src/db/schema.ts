/**
 * The schema index: every Drizzle table of every feature, re-exported for the client
 * (typed queries) and for drizzle-kit (migration generation). Tables live next to their feature.
 */
export * from '../modules/users/table';
export * from '../modules/keys/table';
export * from '../modules/auth/table';
export * from '../modules/invites/table';
export * from '../modules/files/table';
export * from '../modules/folders/table';
export * from '../modules/queue/table';
export * from '../modules/usage/table';
export * from '../modules/logs/table';
export * from '../modules/admin/table';
export * from '../modules/tus/table';
export * from '../modules/shares/table';
export * from '../modules/files/blob-table';
export * from '../modules/account/table';
export * from '../modules/webhooks/table';
export * from '../modules/video/table';
