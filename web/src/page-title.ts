/**
 * What a page change does besides drawing the page: the tab's title names the page (it read
 * "Pictor" everywhere, so tabs and history entries were indistinguishable), and focus moves to
 * the new page's heading when the click that led there took the focused element away (a
 * library tile that opened its file), so keyboard and screen-reader users start at the new
 * page rather than at the top of the document. Focus someone placed is never taken.
 */
import { useEffect, useRef } from 'preact/hooks';

const TITLES: Record<string, string> = {
  '/login': 'Sign in', '/register': 'Create an account', '/forgot-password': 'Forgot password', '/account': 'Your account',
  '/keys': 'API keys', '/settings': 'Settings', '/logs': 'Request log', '/integrations': 'Integrations',
  '/integrations/browser-upload': 'Browser uploads', '/usage': 'Usage', '/jobs': 'Jobs', '/admin': 'Administration',
};

export const setTitle = (title: string) => void (document.title = `${title} · Pictor`);

/** Titles every page but a file's (the details page names its file once it has loaded). */
export function usePageTitle(path: string, folder: string | null): void {
  useEffect(() => {
    if (path.startsWith('/files/')) return;
    if (path === '/' || path === '/library') setTitle(folder && folder !== '/' ? folder : 'Library');
    else setTitle(TITLES[path] ?? 'Page not found');
  }, [path, folder]);
}

/** After a change of page (not the first one), the new page's heading takes the focus that was lost. */
export function useFocusOnPageChange(path: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const started = performance.now();
    let frame = 0;
    const tick = () => {
      const lost = document.activeElement === null || document.activeElement === document.body;
      const heading = document.querySelector<HTMLElement>('main h1');
      if (heading && lost) {
        heading.tabIndex = -1;
        heading.focus();
      } else if (!heading && lost && performance.now() - started < 3000) frame = requestAnimationFrame(tick); // a page still loading
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [path]);
}
