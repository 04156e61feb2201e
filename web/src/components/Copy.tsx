import { useState } from 'preact/hooks';

/** A read-only URL field with a copy button; says "Copied" where a person looks. */
export function CopyField({ label, value, id }: { label: string; value: string; id: string }) {
  const [state, setState] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('Copied');
    } catch {
      // No clipboard (plain http on another host): select the text so the device's own copy takes it.
      (document.getElementById(id) as HTMLInputElement | null)?.select();
      setState('Selected: copy it with Ctrl+C (⌘C) or your device’s Copy');
    }
    setTimeout(() => setState(''), 2500);
  };
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
