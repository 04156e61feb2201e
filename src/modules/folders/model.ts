/** Request and response schemas of the folders API (API.md §4). */
import { t } from 'elysia';

export const FolderSchema = t.Object(
  {
    path: t.String({ description: 'Normalised absolute path.', examples: ['/holidays/2026'] }),
    name: t.String({ description: 'Last segment of the path.', examples: ['2026'] }),
    parent: t.String({ examples: ['/holidays'] }),
    files_count: t.Integer({ description: 'Live files directly in this folder (not in subfolders).' }),
    folders_count: t.Integer({ description: 'Its direct subfolders (0: nothing to open below it).' }),
    created_at: t.String({ format: 'date-time' }),
  },
  { title: 'Folder' },
);

export const FolderList = t.Object({ results: t.Array(FolderSchema), count: t.Integer() });

export const CreateFolderBody = t.Object({
  path: t.String({ minLength: 1, maxLength: 4096, description: 'Absolute path, e.g. `/a/b`; missing ancestors are created (≤ 16 levels of ≤ 255 bytes each, ≤ 1024 bytes in all, counted in UTF-8: a letter a–z is one byte, most Chinese characters three, an emoji four).', examples: ['/holidays/2026'] }),
});

export const ListFoldersQuery = t.Object({
  parent: t.Optional(t.String({ maxLength: 4096, description: 'List the direct subfolders of this folder (default `/`).' })),
});

export const DeleteFolderQuery = t.Object({
  path: t.String({ minLength: 1, maxLength: 4096 }),
  recursive: t.Optional(t.Boolean({ default: false, description: 'Also delete subfolders and every file in them.' })),
});

export const MoveFolderQuery = t.Object({
  path: t.String({ minLength: 1, maxLength: 4096, description: 'The folder to move or rename.' }),
});

export const MoveFolderBody = t.Object({
  path: t.String({ minLength: 1, maxLength: 4096, description: 'Its new absolute path, e.g. `/holidays/2025` to rename `/holidays/2026`; missing ancestors are created.', examples: ['/archive/2026'] }),
});
