import { describe, expect, test } from 'bun:test';
import type { ParseLimits } from './options';
import { loadPresets } from './presets';
import { createSignedUrl } from './signed-url';

const limits: ParseLimits = { maxDimension: 8192, maxOutputPixels: 40_000_000 };
const grammar = { limits, presets: loadPresets(undefined, limits) };
const file = { id: 'abc123', contentType: 'image/png', urlBase: 'https://media.example.com' };

describe('createSignedUrl', () => {
  test('a URL is good for at least expires_in: the expiry second is rounded up (down, expires_in: 1 lasted 0.1 s here)', () => {
    const now = 1_767_225_600_900; // 0.9 s into a second
    const deps = { clock: { now: () => now }, secrets: { signingSecrets: ['s'.repeat(32)] } } as Parameters<typeof createSignedUrl>[0];
    for (const req of [{ original: true, expires_in: 1 }, { transformations: 'w_10', expires_in: 1 }, { transformations: 'w_10', expires_in: 600 }]) {
      const at = Date.parse(createSignedUrl(deps, grammar, file, req).expires_at);
      expect(at - now).toBeGreaterThanOrEqual(req.expires_in * 1000);
      expect(at - now).toBeLessThan(req.expires_in * 1000 + 1000);
    }
  });
});
