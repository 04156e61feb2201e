/**
 * What a page change does besides drawing the page: the tab's title names the page (it read
 * "Pictor" everywhere, so tabs and history entries were indistinguishable), and focus moves to
 * the new page's heading when the click that led there took the focused element away (a
 * library tile that opened its file), so keyboard and screen-reader users start at the new
 * page rather than at the top of the document. Focus someone placed is never taken. Back and
 * Forward return to the scroll position and the link the page was left from.
 */
import { useEffect, useRef } from 'preact/hooks';
import { entryState, reachedByHistory } from './router';

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

/**
 * After a change of page (not the first one), the new page's heading takes the focus that was
 * lost. Back and Forward instead return to where the page was left: its scroll position once its
 * content is tall enough again (a library loads its files first), and the focus on the link that
 * was followed from it (the tile of the file just viewed). A person who scrolls or types first wins.
 */
export function useFocusOnPageChange(path: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const back = reachedByHistory() ? entryState() : {};
    let scrollTo = back.scrollY ?? 0;
    let focusHref = back.focusHref;
    const started = performance.now();
    let frame = 0;
    const giveUp = () => {
      scrollTo = 0;
      focusHref = undefined;
    };
    const events = ['wheel', 'touchstart', 'keydown', 'mousedown'] as const;
    for (const e of events) window.addEventListener(e, giveUp, { passive: true });
    const tick = () => {
      const waited = performance.now() - started;
      if (scrollTo > 0) {
        const room = document.documentElement.scrollHeight - window.innerHeight;
        if (room < scrollTo && waited < 3000) return void (frame = requestAnimationFrame(tick));
        window.scrollTo(0, Math.min(scrollTo, room));
        scrollTo = 0;
      }
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (focusHref) {
        // A windowed list draws the link only once the scroll above has brought it into view.
        const link = [...document.querySelectorAll<HTMLAnchorElement>('main a[href]')].find((a) => a.getAttribute('href') === focusHref);
        if (link) return link.focus({ preventScroll: true });
        if (waited < 3000) return void (frame = requestAnimationFrame(tick));
      }
      const heading = document.querySelector<HTMLElement>('main h1');
      if (heading && lost) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: back.scrollY !== undefined });
      } else if (!heading && lost && waited < 3000) frame = requestAnimationFrame(tick); // a page still loading
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      for (const e of events) window.removeEventListener(e, giveUp);
    };
  }, [path]);
}
