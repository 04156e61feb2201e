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
import { StartupError } from '../../lib/startup';

export const DEFAULT_PRESETS: readonly Preset[] = [
  { name: 'thumb', transformation: 'w_200,h_200,c_fill,g_auto,f_auto', eager: true },
  { name: 'small', transformation: 'w_480,c_limit,f_auto', eager: false },
  { name: 'medium', transformation: 'w_1024,c_limit,f_auto', eager: false },
  { name: 'large', transformation: 'w_2048,c_limit,f_auto', eager: false },
  { name: 'og', transformation: 'w_1200,h_630,c_fill,g_auto,f_jpg', eager: false },
];

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** A bad `PRESETS` stops the start as a setting to fix: one line naming it, no stack (lib/startup.ts). */
const presetsError = (message: string) => new StartupError(message, 'PRESETS');

/** Reads `PRESETS` (inline JSON or a file path) over the defaults; throws a readable StartupError when invalid. */
export function loadPresets(setting: string | undefined, limits: ParseLimits): ReadonlyMap<string, Preset> {
  const presets = new Map(DEFAULT_PRESETS.map((p) => [p.name, p]));
  const fromSetting = new Set<string>();
  if (setting) {
    let text = setting;
    if (!setting.trim().startsWith('{')) {
      try {
        text = readFileSync(setting, 'utf8');
      } catch (err) {
        throw presetsError(`PRESETS is neither JSON nor a file that can be read (${setting}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw presetsError(`PRESETS is not valid JSON: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw presetsError('PRESETS must be a JSON object of name → preset');
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!NAME_RE.test(name)) throw presetsError(`PRESETS: invalid preset name ${JSON.stringify(name)} (a-z, 0-9, -)`);
      const entry = typeof value === 'string' ? { transformation: value, eager: false } : (value as Record<string, unknown> | null);
      if (!entry || typeof entry.transformation !== 'string') {
        throw presetsError(`PRESETS.${name} must be a string or {"transformation": "...", "eager": bool}`);
      }
      // A mistyped key (`eagr`) or a non-boolean `eager` ("yes") made a lazy preset without a word.
      const unknown = Object.keys(entry).find((k) => k !== 'transformation' && k !== 'eager');
      if (unknown !== undefined) throw presetsError(`PRESETS.${name}: unknown key ${JSON.stringify(unknown)} (a preset has "transformation" and "eager")`);
      if (entry.eager !== undefined && typeof entry.eager !== 'boolean') throw presetsError(`PRESETS.${name}.eager must be true or false`);
      presets.set(name, { name, transformation: entry.transformation, eager: entry.eager === true });
      fromSetting.add(name);
    }
  }
  for (const preset of presets.values()) {
    try {
      const parsed = parseTransformation(preset.transformation, undefined, limits, new Map());
      if (parsed.exp !== undefined) throw presetsError('exp_ is not allowed in a preset');
    } catch (err) {
      if (!fromSetting.has(preset.name)) {
        // A built-in preset over the output limits: it is MAX_DIMENSION (or MAX_OUTPUT_PIXELS) that was set, not PRESETS.
        throw new StartupError(`The built-in preset ${preset.name} (${preset.transformation}) does not fit MAX_DIMENSION=${limits.maxDimension} / MAX_OUTPUT_PIXELS=${limits.maxOutputPixels}: raise them, or replace ${preset.name} in PRESETS (${(err as Error).message})`, 'MAX_DIMENSION');
      }
      throw presetsError(`PRESETS.${preset.name} is not a valid transformation: ${(err as Error).message}`);
    }
  }
  return presets;
}
