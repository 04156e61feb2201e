/** `Upload-Metadata` parsing (service.ts `parseMetadata`): pairs as sent, whatever the key is called. */
import { expect, test } from 'bun:test';
import { AppError } from '../../errors';
import { parseMetadata } from './service';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('keys named after Object members are plain keys, kept like any other', () => {
  const meta = parseMetadata(`__proto__ ${b64('x')},constructor ${b64('y')},toString,filename ${b64('a.png')}`);
  // On a plain object `__proto__` vanished (it set the prototype) and `constructor`/`toString` shadowed its members.
  expect(Object.keys(meta)).toEqual(['__proto__', 'constructor', 'toString', 'filename']);
  expect(meta.__proto__ as unknown).toBe('x');
  expect(meta.filename).toBe('a.png');
  expect(Object.getPrototypeOf(meta)).toBeNull();
});

test('malformed pairs are a 400 naming the pair', () => {
  // Base64 as tusd reads it: `Y`, `YQ=` and `=` decoded to something (or nothing) without a word.
  for (const raw of ['a b c', 'name !!', ' ', 'name Y', 'name YQ=', 'name =', 'name YWJj=']) {
    let caught: unknown;
    try {
      parseMetadata(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).status).toBe(400);
  }
  expect(parseMetadata(null)).toEqual({});
  expect(parseMetadata(`name ${b64('a')},type ${b64('ab')},x ${b64('abc')},empty`)).toEqual({ name: 'a', type: 'ab', x: 'abc', empty: '' });
});
