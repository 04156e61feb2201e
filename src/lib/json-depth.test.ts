import { describe, expect, test } from 'bun:test';
import { jsonNestsDeeper } from './json-depth';

describe('jsonNestsDeeper', () => {
  test('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonNestsDeeper('{"a":{"b":[1,2]}}', 3)).toBe(false);
    expect(jsonNestsDeeper('{"a":{"b":[[1]]}}', 3)).toBe(true);
    expect(jsonNestsDeeper(`{"a":"${'['.repeat(100)}"}`, 1)).toBe(false);
    expect(jsonNestsDeeper('{"a":"\\"[[[[","b":1}', 1)).toBe(false);
    expect(jsonNestsDeeper(`{"email":${'['.repeat(5000)}${']'.repeat(5000)}}`, 32)).toBe(true);
    expect(jsonNestsDeeper('[]'.repeat(1000), 1)).toBe(false);
  });
});
