/** `/api/folders` (API.md §4): create, list children, move (rename), delete (recursive on request). */
import { noContent } from '../../http';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { authGuard } from '../auth/guard';
import { CreateFolderBody, DeleteFolderQuery, FolderList, FolderSchema, ListFoldersQuery, MoveFolderBody, MoveFolderQuery } from './model';
import { createFolder, deleteFolder, listFolders, moveFolder } from './service';

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
    .patch('/', ({ principal, query, body }) => moveFolder(deps, principal.userId, query.path, body.path), {
      auth: 'files:write',
      query: MoveFolderQuery,
      body: MoveFolderBody,
      response: { 200: FolderSchema, ...errorResponses(400, 401, 403, 404, 409) },
      detail: {
        summary: 'Move or rename a folder',
        description: 'Moves the folder at `?path=` to the body\'s `path`, with its subfolders and every file below it, in one step: '
          + 'a listing sees the old tree or the new one, never half of each. '
          + '404 when the folder does not exist, 409 when the new path does (nothing is merged), 400 for the root, the same path, '
          + 'a path inside the folder itself, or one that would make a moved path deeper than 16 levels or longer than 1024 bytes (UTF-8).',
      },
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
