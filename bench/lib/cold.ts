/**
 * The cold-transform workload: varied sizes, fits and formats over the corpus photos, every
 * URL distinct (so every request is a real render), expressed both as a Pictor URL and as the
 * equivalent sharp operation for the in-process baseline.
 */
export interface ColdOp {
  w: number;
  h?: number;
  fit: 'inside' | 'cover';
  format: 'webp' | 'jpeg' | 'avif';
}

/** `count` distinct operations; `salt` shifts the sizes so a later run never hits an earlier run's cache. */
export function coldOps(count: number, salt: number): ColdOp[] {
  const ops: ColdOp[] = [];
  for (let i = 0; i < count; i++) {
    // Odd widths only: the hit scenarios use even ones (w_320, w_640), so a cold URL is never a warm one.
    const w = 201 + 2 * ((i * 53 + salt * 7) % 500);
    const kind = i % 5;
    // Mostly WebP and JPEG, some AVIF: the mix an image CDN sees with f_auto.
    if (kind === 4) ops.push({ w, fit: 'inside', format: 'avif' });
    else if (kind % 2 === 0) ops.push({ w, fit: 'inside', format: 'webp' });
    else ops.push({ w, h: Math.round(w * 0.75), fit: 'cover', format: 'jpeg' });
  }
  return ops;
}

/** The `/t` transformation segment for an op. */
export function coldSegment(op: ColdOp): string {
  const f = op.format === 'jpeg' ? 'jpg' : op.format;
  return op.fit === 'cover' ? `w_${op.w},h_${op.h},c_fill,f_${f}` : `w_${op.w},f_${f}`;
}
