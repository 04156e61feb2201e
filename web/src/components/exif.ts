/**
 * The EXIF the server keeps (src/modules/files/metadata.ts `EXIF_KEEP`) as a photographer reads
 * it: "1/250 s", "f/2.8", "ISO 400", "Canon EOS R5" — not 0.004, 2.8, 400 and two fields.
 * A tag this does not know is shown as it came.
 */
type Exif = Record<string, unknown>;

const ORIENTATION: Record<number, string> = {
  1: 'Normal', 2: 'Mirrored', 3: 'Rotated 180°', 4: 'Mirrored, rotated 180°',
  5: 'Mirrored, rotated 90° counter-clockwise', 6: 'Rotated 90° clockwise', 7: 'Mirrored, rotated 90° clockwise', 8: 'Rotated 90° counter-clockwise',
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : Array.isArray(v) && typeof v[0] === 'number' ? v[0] : null);
const trim = (n: number, digits = 1) => String(Number(n.toFixed(digits)));

/** EXIF times have no zone: the camera's clock as it read, without converting it to this browser's. */
const cameraTime = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(v) ? v.slice(0, 19).replace('T', ' ') : null);

function exposure(v: unknown): string | null {
  const s = num(v);
  if (s === null || s <= 0) return null;
  return s < 1 ? `1/${Math.round(1 / s)} s` : `${trim(s)} s`;
}

const FORMAT: Record<string, { label: string; text: (v: unknown, all: Exif) => string | null }> = {
  Make: { label: 'Camera', text: (v, all) => {
    const make = String(v).trim();
    const model = typeof all.Model === 'string' ? all.Model.trim() : '';
    // "NIKON CORPORATION" + "NIKON D750" reads "NIKON D750": the model often names the brand already.
    const brand = make.split(/\s+/)[0]!.toLowerCase();
    return model && model.toLowerCase().startsWith(brand) ? model : [make, model].filter(Boolean).join(' ');
  } },
  Model: { label: 'Camera', text: (v, all) => (all.Make === undefined ? String(v) : null) },
  LensModel: { label: 'Lens', text: (v) => String(v) },
  ExposureTime: { label: 'Exposure', text: exposure },
  FNumber: { label: 'Aperture', text: (v) => (num(v) === null ? null : `f/${trim(num(v)!)}`) },
  ISOSpeedRatings: { label: 'ISO', text: (v) => (num(v) === null ? null : String(num(v))) },
  FocalLength: { label: 'Focal length', text: (v) => (num(v) === null ? null : `${trim(num(v)!)} mm`) },
  Flash: { label: 'Flash', text: (v) => (num(v) === null ? null : (num(v)! & 1) ? 'Fired' : 'Did not fire') },
  DateTimeOriginal: { label: 'Taken', text: cameraTime },
  DateTime: { label: 'Modified', text: cameraTime },
  Orientation: { label: 'Orientation', text: (v) => (num(v) === null ? null : ORIENTATION[num(v)!] ?? String(v)) },
  PixelXDimension: { label: 'Pixel size', text: (v, all) => (num(v) && num(all.PixelYDimension) ? `${num(v)} × ${num(all.PixelYDimension)}` : null) },
  PixelYDimension: { label: 'Pixel size', text: () => null },
  Software: { label: 'Software', text: (v) => String(v) },
  Artist: { label: 'Artist', text: (v) => String(v) },
  Copyright: { label: 'Copyright', text: (v) => String(v) },
};

const ORDER = Object.keys(FORMAT);

/** The rows to show, known tags first in a photographer's order, then any other as it came. */
export function exifRows(exif: Exif): [string, string][] {
  const rows: [string, string][] = [];
  const keys = Object.keys(exif).sort((a, b) => (ORDER.indexOf(a) + 1 || 1e3) - (ORDER.indexOf(b) + 1 || 1e3));
  for (const key of keys) {
    const v = exif[key];
    const known = FORMAT[key];
    const text = known ? known.text(v, exif) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (text !== null && text !== '') rows.push([known?.label ?? key, text]);
  }
  return rows;
}
