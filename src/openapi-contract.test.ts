import { describe, expect, test } from 'bun:test';
import { codeSpans, normalizeSchema } from './openapi-contract';

describe('codeSpans', () => {
  test('puts bare error codes in code spans (Markdown would read MISSING_SCOPE, CSRF_INVALID as emphasis)', () => {
    expect(codeSpans('FORBIDDEN, MISSING_SCOPE, CSRF_INVALID or ACCOUNT_BANNED.')).toBe('FORBIDDEN, `MISSING_SCOPE`, `CSRF_INVALID` or `ACCOUNT_BANNED`.');
  });
  test('leaves existing code spans alone and is idempotent', () => {
    const once = codeSpans('`RATE_LIMITED` — see `Retry-After`; UPLOAD_IDLE_TIMEOUT');
    expect(once).toBe('`RATE_LIMITED` — see `Retry-After`; `UPLOAD_IDLE_TIMEOUT`');
    expect(codeSpans(once)).toBe(once);
  });
});

describe('normalizeSchema', () => {
  test("Elysia's string-coercion branch, nullable and the error keyword go; the wire type stays", () => {
    const s: Record<string, unknown> = {
      minimum: 1, default: 50, description: 'Page size',
      anyOf: [{ format: 'integer', default: 0, type: 'string' }, { minimum: 1, default: 50, type: 'integer' }],
    };
    normalizeSchema(s);
    expect(s).toEqual({ minimum: 1, default: 50, description: 'Page size', type: 'integer' });
    const n: Record<string, unknown> = { nullable: true, error: 'must be a string', type: ['string', 'null'], format: 'numeric' };
    normalizeSchema(n);
    expect(n).toEqual({ type: ['string', 'null'] });
  });
  test('t.Record patternProperties become additionalProperties', () => {
    const s: Record<string, unknown> = { type: 'object', patternProperties: { '^(.*)$': {} } };
    normalizeSchema(s);
    expect(s).toEqual({ type: 'object', additionalProperties: {} });
  });
});
