import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The width under which the app lays out for a phone (styles.css uses the same). */
const PHONE = '(max-width: 720px)';

/** A touch screen's finger, whatever its width (a tablet): styles.css uses the same. */
const COARSE = '(pointer: coarse)';

/** Whether `media` matches now; follows rotation, resizing and a mouse plugged in. */
function useMedia(media: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(media).matches);
  useEffect(() => {
    const query = matchMedia(media);
    const onChange = () => setMatches(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [media]);
  return matches;
}

/** Whether the window is phone-wide now. */
export const useNarrow = (): boolean => useMedia(PHONE);
/** Whether the main pointer is a finger: nothing to drop from, and targets need a thumb's size. */
export const useTouch = (): boolean => useMedia(COARSE);

/**
 * Its children as they are on a wide screen; on a phone folded under `summary` (closed at
 * first), so what the page is for comes first. A change of `closeOn` folds it again (a folder
 * picked in the tree: its files come into view).
 */
export function Fold({ narrow, summary, class: cls, closeOn, children }: {
  narrow: boolean; summary: string; class?: string; closeOn?: unknown; children: ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [closeOn]);
  if (!narrow) return <>{children}</>;
  return (
    <details class={`fold${cls ? ` ${cls}` : ''}`} open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{summary}</summary>
      {/* A box of its own: Chromium lays a <details>'s children out in its own slot, so a flex
          <details> placed none of them (the folded filters ran into each other). */}
      <div class="fold-body">{children}</div>
    </details>
  );
}
