/** Which runtime we are on. Only `src/platform/` may look at `Bun` or `Deno` directly. */
export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';
export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
export const runtimeName = isBun ? 'bun' : isDeno ? 'deno' : 'node';
