import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The width under which the app lays out for a phone (styles.css uses the same). */
const PHONE = '(max-width: 720px)';

/** Whether the window is phone-wide now; follows rotation and resizing. */
export function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => matchMedia(PHONE).matches);
  useEffect(() => {
    const query = matchMedia(PHONE);
    const onChange = () => setNarrow(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return narrow;
}

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
      {children}
    </details>
  );
}
