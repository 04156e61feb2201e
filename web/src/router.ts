/** A tiny history router: the server answers every deep link with the shell, the app picks the page. */
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

/**
 * What a history entry remembers of its page, for Back and Forward: where it was scrolled, the
 * link that was followed from it (focus returns there), and what a page chooses to add (the
 * library: how many files it had loaded, so it can reach the same place again).
 */
export interface EntryState {
  scrollY?: number;
  focusHref?: string;
  loaded?: number;
}

/** The app restores scroll itself: the browser's own restoration runs before a page's content has loaded. */
if ('scrollRestoration' in history) history.scrollRestoration = 'manual';

let popped = false;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

export const entryState = (): EntryState => (history.state as EntryState | null) ?? {};

/** Merges `patch` into the current entry's state (the address stays). */
export function rememberInEntry(patch: EntryState): void {
  history.replaceState({ ...entryState(), ...patch }, '');
}

/** Whether the page now shown was reached by Back or Forward (not by a link or a script). */
export const reachedByHistory = (): boolean => popped;

// The scroll position is saved as it changes (once scrolling pauses: browsers throttle replaceState).
window.addEventListener('scroll', () => {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => rememberInEntry({ scrollY: Math.round(window.scrollY) }), 150);
}, { passive: true });
window.addEventListener('popstate', () => {
  clearTimeout(saveTimer); // a pending save belongs to the page just left
  popped = true;
}, { capture: true });

let message: string | null = null;
/** The line `navigate` was given for the page it led to (what the page left did), once. */
export function takeMessage(): string | null {
  const m = message;
  message = null;
  return m;
}

/** `said`: a line for the next page to show (a file deleted from its own page: the library says so). */
export function navigate(to: string, replace = false, said?: string): void {
  message = said ?? null;
  clearTimeout(saveTimer);
  if (replace) history.replaceState(null, '', to);
  else {
    const active = document.activeElement;
    const focusHref = active instanceof HTMLAnchorElement && active.closest('main') ? active.getAttribute('href') ?? undefined : undefined;
    rememberInEntry({ scrollY: Math.round(window.scrollY), focusHref });
    history.pushState(null, '', to);
  }
  popped = false;
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export interface Route {
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({ path: location.pathname, query: new URLSearchParams(location.search) });

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/**
 * A `next=` target when it resolves on this site, else `fallback`. `//host`, `/\host`, a tab
 * inside the slashes (the URL parser drops it), `https:` and `javascript:` would leave it, and
 * `history.replaceState` throws on another origin (the sign-in page then stayed where it was).
 */
export function sitePathOr(next: string | null, fallback = '/'): string {
  if (!next) return fallback;
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : fallback;
  } catch {
    return fallback;
  }
}

/** Internal links as real anchors (middle-click works), routed without a reload. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  // A link within this page (a skip link) moves the focus there; routed, it reloaded the page instead.
  if (url.hash && url.origin === location.origin && url.pathname === location.pathname && url.search === location.search) {
    const target = document.getElementById(decodeURIComponent(url.hash.slice(1)));
    if (!target) return;
    e.preventDefault();
    if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
    target.focus();
    return;
  }
  if (url.origin !== location.origin || url.pathname.startsWith('/docs') || url.pathname.startsWith('/api') || /^\/(i|d|t|authenticated)\//.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
