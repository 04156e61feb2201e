/**
 * Named transformations (`t_<name>`). Defaults are the table in TRANSFORMS.md; `PRESETS`
 * (JSON, or a path to a JSON file) replaces or adds entries:
 *
 *   {"thumb": {"transformation": "w_150,h_150,c_fill,g_auto,f_auto", "eager": true}, "hero": "w_1600,c_limit"}
 *
 * Every preset is parsed at boot, so a typo stops the server instead of failing per request.
 */
import { readFileSync } from 'node:fs';
import type { ParseLimits, Preset } from './options';
import { parseTransformation } from './parse';

export const DEFAULT_PRESETS: readonly Preset[] = [
  { name: 'thumb', transformation: 'w_200,h_200,c_fill,g_auto,f_auto', eager: true },
  { name: 'small', transformation: 'w_480,c_limit,f_auto', eager: false },
  { name: 'medium', transformation: 'w_1024,c_limit,f_auto', eager: false },
  { name: 'large', transformation: 'w_2048,c_limit,f_auto', eager: false },
  { name: 'og', transformation: 'w_1200,h_630,c_fill,g_auto,f_jpg', eager: false },
];

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Reads `PRESETS` (inline JSON or a file path) over the defaults; throws a readable Error when invalid. */
export function loadPresets(setting: string | undefined, limits: ParseLimits): ReadonlyMap<string, Preset> {
  const presets = new Map(DEFAULT_PRESETS.map((p) => [p.name, p]));
  if (setting) {
    const text = setting.trim().startsWith('{') ? setting : readFileSync(setting, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`PRESETS is not valid JSON: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('PRESETS must be a JSON object of name → preset');
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!NAME_RE.test(name)) throw new Error(`PRESETS: invalid preset name ${JSON.stringify(name)} (a-z, 0-9, -)`);
      const entry = typeof value === 'string' ? { transformation: value, eager: false } : (value as Record<string, unknown> | null);
      if (!entry || typeof entry.transformation !== 'string') {
        throw new Error(`PRESETS.${name} must be a string or {"transformation": "...", "eager": bool}`);
      }
      presets.set(name, { name, transformation: entry.transformation, eager: entry.eager === true });
    }
  }
  for (const preset of presets.values()) {
    try {
      const parsed = parseTransformation(preset.transformation, undefined, limits, new Map());
      if (parsed.exp !== undefined) throw new Error('exp_ is not allowed in a preset');
    } catch (err) {
      throw new Error(`PRESETS.${preset.name} is not a valid transformation: ${(err as Error).message}`);
    }
  }
  return presets;
}
