/**
 * A 429's Retry-After in words a person reads ("4 minutes"), rounded up. Shared by the server's
 * error pages and the web app (which imports this file), so both say the same wait the same way.
 */
export function waitWords(seconds: number): string {
  if (seconds <= 1) return '1 second';
  if (seconds < 90) return `${Math.ceil(seconds)} seconds`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} minutes`;
  return `${Math.ceil(seconds / 3600)} hours`;
}
