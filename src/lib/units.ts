/**
 * Parsers for the human-friendly units used in environment variables:
 * byte sizes (`750MiB`, `10GB`, `1024`) and durations (`30s`, `15m`, `1h`, `7d`).
 * Pure functions, shared by config parsing and the rate-limit bucket syntax.
 */

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const BYTES_RE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i;

/**
 * Parses `750MiB`, `1.5GB`, `1024` into a whole number of bytes; null when malformed, and for a
 * fraction of a byte (`0.5b`, or `0.1` meant as a share: it read as 0).
 */
export function parseBytes(text: string): number | null {
  const m = BYTES_RE.exec(text);
  if (!m) return null;
  const unit = BYTE_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return null;
  if (unit === 1 && m[1]!.includes('.')) return null;
  // Whole bytes: `0.0001KB` was 0 (turning a cache off), `1.3B`-like fractions of a unit were cut.
  const exact = Number(m[1]) * unit;
  const value = Math.round(exact);
  if (Math.abs(exact - value) > 1e-9 * Math.max(1, exact)) return null;
  return Number.isSafeInteger(value) ? value : null;
}

/** Formats a byte count with the largest binary unit that divides it exactly. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/i;

/** Parses `30s`, `15m`, `1h`, `7d` into milliseconds; null when malformed or zero. */
export function parseDurationMs(text: string): number | null {
  const m = DURATION_RE.exec(text);
  if (!m) return null;
  const value = Number(m[1]) * (DURATION_UNITS[(m[2] ?? '').toLowerCase()] ?? NaN);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** A rate-limit rule as written in `RATE_LIMIT_<BUCKET>`: `<max>/<window>`, or a bare `<max>` for concurrency. */
export interface RateRule {
  /** Requests (or bytes, for weighted buckets) allowed per window, or concurrent leases. */
  max: number;
  /** Window length in milliseconds; 0 for a concurrency bucket. */
  windowMs: number;
}

/**
 * Parses `5/15m`, `10GiB/1h` (`bytes`: a bucket that counts bytes) or (concurrency) `8`; null
 * when malformed. A count is a whole number (`2.7` was rounded down to 2, `5KB` read as 5000
 * requests); the window is whole seconds, minutes, hours or days (`100ms` made a window that
 * rounded to 0 s).
 */
export function parseRateRule(text: string, concurrency = false, bytes = false): RateRule | null {
  if (concurrency) {
    const max = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
    return Number.isSafeInteger(max) && max > 0 ? { max, windowMs: 0 } : null;
  }
  const [maxText, windowText, extra] = text.split('/');
  if (maxText === undefined || windowText === undefined || extra !== undefined) return null;
  if (!bytes && !/^\s*\d+\s*$/.test(maxText)) return null;
  if (!/^\s*\d+\s*[smhd]\s*$/i.test(windowText)) return null;
  const max = bytes ? parseBytes(maxText) : Number(maxText);
  const windowMs = parseDurationMs(windowText);
  if (max === null || max <= 0 || windowMs === null) return null;
  return { max, windowMs };
}
