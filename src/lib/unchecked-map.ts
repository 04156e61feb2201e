import { t } from 'elysia';

/**
 * A body field holding a map of names to text that the route checks itself (the value as sent:
 * a TypeBox record dropped a `__proto__` key). Its shape sits under `allOf` for the docs only:
 * Elysia's body mirror cannot copy an object schema without `properties` (it printed "Failed to
 * create exactMirror. Please report…" at each start's first request), and with them it spread
 * a string into an object, so the route's check saw `{"0": "x"}` for `"x"`.
 */
export const uncheckedMap = (value: Record<string, unknown>, options: { description: string; maxProperties?: number }) =>
  t.Unknown({
    allOf: [{ type: 'object', additionalProperties: value, ...(options.maxProperties !== undefined ? { maxProperties: options.maxProperties } : {}) }],
    description: options.description,
  });
