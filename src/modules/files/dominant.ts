/**
 * The dominant colour of a small RGBA decode: the fullest bin of a 16×16×16 histogram, reported
 * as the bin's centre (sharp's `stats().dominant` bins alike; it reports 16 lower). Written here rather than calling
 * `stats()` because sharp computes it over the full-resolution image: for a 560×560 JPEG that was
 * ~32 ms of CPU in every upload's derive job; over the 32×32 decode the blurhash already has it
 * is a loop over 1 024 pixels. Mostly transparent pixels (alpha < 128) do not count unless all are.
 */
export function dominantColor(rgba: Uint8Array, channels: number): string {
  const bins = new Uint32Array(4096);
  const count = (opaqueOnly: boolean) => {
    let counted = 0;
    for (let i = 0; i + 2 < rgba.length; i += channels) {
      if (opaqueOnly && channels === 4 && rgba[i + 3]! < 128) continue;
      bins[((rgba[i]! >> 4) << 8) | ((rgba[i + 1]! >> 4) << 4) | (rgba[i + 2]! >> 4)]!++;
      counted++;
    }
    return counted;
  };
  if (count(true) === 0) count(false);
  let best = 0;
  for (let b = 1; b < 4096; b++) if (bins[b]! > bins[best]!) best = b;
  const hex = (level: number) => ((level << 4) + 8).toString(16).padStart(2, '0');
  return `#${hex(best >> 8)}${hex((best >> 4) & 15)}${hex(best & 15)}`;
}
