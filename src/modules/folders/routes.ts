/** `/api/folders` (API.md §4): create, list children, delete (recursive on request). */
import { noContent } from '../../http';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { authGuard } from '../auth/guard';
import { CreateFolderBody, DeleteFolderQuery, FolderList, FolderSchema, ListFoldersQuery } from './model';
import { createFolder, deleteFolder, listFolders } from './service';

export function folderRoutes(deps: AppDeps) {
  return new Elysia({ name: 'pictor.folders.routes', prefix: '/api/folders', detail: { tags: ['folders'] } })
    .use(authGuard(deps))
    .post(
      '/',
      async ({ principal, body, set }) => {
        const folder = await createFolder(deps, principal.userId, body.path);
        set.status = 201;
        return folder;
      },
      {
        auth: 'files:write',
        body: CreateFolderBody,
        response: { 201: FolderSchema, ...errorResponses(400, 401, 403, 409) },
        detail: { summary: 'Create a folder', description: 'The path is normalised (`a//b/` → `/a/b`); missing ancestors are created. 409 when it exists.' },
      },
    )
    .get('/', ({ principal, query }) => listFolders(deps, principal.userId, query.parent), {
      auth: 'files:read',
      query: ListFoldersQuery,
      response: { 200: FolderList, ...errorResponses(400, 401, 403) },
      detail: { summary: 'List folders', description: 'The direct subfolders of `parent` (default `/`), sorted by path, with their file counts.' },
    })
    .delete(
      '/',
      async ({ principal, query }) => {
        await deleteFolder(deps, principal.userId, query.path, query.recursive ?? false);
        return noContent();
      },
      {
        auth: 'files:delete',
        query: DeleteFolderQuery,
        response: { 204: t.Void(), ...errorResponses(400, 401, 403, 404, 409) },
        detail: {
          summary: 'Delete a folder',
          description: 'A non-empty folder (files or subfolders) needs `recursive=true`, which deletes its files (bytes purged by jobs) and subfolders; otherwise 409.',
        },
      },
    );
}
