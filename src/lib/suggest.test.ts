import { describe, expect, test } from 'bun:test';
import { closestName } from './suggest';

describe('closestName', () => {
  const upload = ['folder', 'is_public', 'expires_in', 'expires_at'];
  test('case and separators are ignored', () => {
    expect(closestName('isPublic', upload)).toBe('is_public');
    expect(closestName('IS-PUBLIC', upload)).toBe('is_public');
  });
  test('small typos and transpositions within the distance', () => {
    expect(closestName('limt', ['status', 'limit', 'cursor'])).toBe('limit');
    expect(closestName('fodler', upload)).toBe('folder');
    expect(closestName('expires_on', upload)).toBe('expires_in');
  });
  test('nothing close: no suggestion', () => {
    expect(closestName('page', ['status', 'method', 'since', 'limit', 'cursor'])).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
    expect(closestName('', upload)).toBeUndefined();
    expect(closestName('ab', ['xy'])).toBeUndefined();
  });
});
