/** What an action came to: a success to announce, or a failure to alert; null for nothing yet. */
export type Outcome = { ok: boolean; text: string } | null;

/**
 * An action's outcome in words. The success line is a live region that is always in the page
 * (empty and hidden until used): screen readers announce a change inside a region they already
 * know, and many stay silent for one inserted with its text already in it ("Changes saved."
 * was). A failure is an alert, which is announced when it appears.
 */
export function OutcomeLine({ outcome }: { outcome: Outcome }) {
  return (
    <>
      <p class={outcome?.ok ? 'notice' : 'sr-only'} role="status">{outcome?.ok ? outcome.text : ''}</p>
      {outcome && !outcome.ok && <p class="error" role="alert">{outcome.text}</p>}
    </>
  );
}
