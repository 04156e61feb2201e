/**
 * Telling delivery that files changed (deleted, expired, made private/public, new expiry): the
 * lookup cache of this instance forgets them before the response goes out, and every other
 * instance hears it over `deps.bus` (cache/lookup.ts). Never throws: a lost broadcast only
 * delays other instances until the lookup TTL.
 */
import type { AppDeps } from '../../deps';

/** Call after the change has committed. */
export async function forgetFiles(deps: AppDeps, ids: readonly string[]): Promise<void> {
  const { lookup } = deps.delivery;
  for (const id of ids) await lookup.invalidate({ id });
}
