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
  for (const raw of ['a b c', 'name !!', ' ']) {
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
});
