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
  test('what other APIs call a parameter, before a name one edit away', () => {
    const list = ['folder', 'recursive', 'q', 'content_type', 'is_public', 'sort', 'limit', 'cursor'];
    expect(closestName('order', list)).toBe('sort'); // not folder
    expect(['orderBy', 'sort_by', 'direction', 'per_page', 'pageSize', 'page', 'offset', 'visibility', 'search', 'mimeType'].map((n) => closestName(n, list)))
      .toEqual(['sort', 'sort', 'sort', 'limit', 'limit', 'cursor', 'cursor', 'is_public', 'q', 'content_type']);
    // Only a name the route has: without sort, order is still near folder.
    expect(closestName('order', ['folder', 'limit'])).toBe('folder');
  });
  test('nothing close: no suggestion', () => {
    expect(closestName('colour', ['status', 'method', 'since', 'limit', 'cursor'])).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
    expect(closestName('', upload)).toBeUndefined();
    expect(closestName('ab', ['xy'])).toBeUndefined();
  });
});
