import { useRef, useState } from 'preact/hooks';

export interface PreviewOutcome {
  size?: string;
  error?: string;
}

/**
 * What became of the preview of `key` (a transformation or URL): its size or the server's
 * reason, or null while it loads. A report for any other key — a late load or error of a
 * preview the controls have since replaced, or the error check it started — is dropped:
 * recorded, it would erase the current preview's outcome and leave "Loading preview…" for good.
 */
export function usePreviewOutcome(key: string): [PreviewOutcome | null, (forKey: string, outcome: PreviewOutcome) => void] {
  const [outcome, setOutcome] = useState<(PreviewOutcome & { key: string }) | null>(null);
  const current = useRef(key);
  current.current = key;
  const report = (forKey: string, o: PreviewOutcome) => {
    if (forKey === current.current) setOutcome({ key: forKey, ...o });
  };
  return [outcome?.key === key ? outcome : null, report];
}
