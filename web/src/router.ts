/** A tiny history router: the server answers every deep link with the shell, the app picks the page. */
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
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
  if (url.origin !== location.origin || url.pathname.startsWith('/docs') || url.pathname.startsWith('/api') || /^\/(i|d|t|authenticated)\//.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
