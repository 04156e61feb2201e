/**
 * The library view a file was opened from (folder, search, filters, sort: its address), so the
 * file page's link back returns to it; a fresh link to the folder lost the search and the sort.
 * Per tab (sessionStorage), and only for the file's own folder.
 */
const KEY = 'pictor.library-view';

export function rememberLibraryView(): void {
  try {
    sessionStorage.setItem(KEY, location.pathname + location.search);
  } catch {
    // Storage refused (a locked-down browser): the link back is the folder's plain address.
  }
}

/** The address back to `folder` in the library: the remembered view when it shows that folder. */
export function libraryViewOf(folder: string): string {
  const plain = `/?${new URLSearchParams(folder === '/' ? {} : { folder })}`;
  let saved: string | null = null;
  try {
    saved = sessionStorage.getItem(KEY);
  } catch {
    return plain;
  }
  if (!saved) return plain;
  const url = new URL(saved, location.origin);
  if (url.pathname !== '/' && url.pathname !== '/library') return plain;
  return (url.searchParams.get('folder') ?? '/') === folder ? url.pathname + url.search : plain;
}
