import { useState } from 'preact/hooks';

/**
 * Copies `value`, or selects the element `id` where there is no clipboard (plain http on another
 * host) so the device's own copy takes it; the state says which, for a few seconds.
 */
function useCopy(value: string, id: string): [string, () => Promise<void>] {
  const [state, setState] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('Copied');
    } catch {
      const el = document.getElementById(id);
      if (el instanceof HTMLInputElement) el.select();
      else if (el) window.getSelection()?.selectAllChildren(el);
      setState('Selected: copy it with Ctrl+C (⌘C) or your device’s Copy');
    }
    setTimeout(() => setState(''), 2500);
  };
  return [state, copy];
}

/** A read-only URL field with a copy button; says "Copied" where a person looks. */
export function CopyField({ label, value, id }: { label: string; value: string; id: string }) {
  const [state, copy] = useCopy(value, id);
  return (
    <div class="copy">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} readOnly value={value} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        {/* Named after its field: a page with five "Copy" buttons read as five of the same to a screen reader. */}
        <button type="button" onClick={copy} aria-describedby={`${id}-state`}>Copy<span class="sr-only"> {label}</span></button>
        <span id={`${id}-state`} class="copied" role="status">{state}</span>
      </div>
    </div>
  );
}

/** A code example with a Copy button above its right end; the block scrolls sideways on a phone. */
export function CopyBlock({ label, value, id }: { label: string; value: string; id: string }) {
  const [state, copy] = useCopy(value, id);
  return (
    <div class="copy-block">
      <div class="copy-block-bar">
        <span id={`${id}-state`} class="copied" role="status">{state}</span>
        <button type="button" class="small" onClick={copy} aria-describedby={`${id}-state`}>Copy<span class="sr-only"> {label}</span></button>
      </div>
      <pre id={id} tabIndex={0} role="region" aria-label={label}><code>{value}</code></pre>
    </div>
  );
}
