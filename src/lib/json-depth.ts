/**
 * Whether a JSON text nests arrays or objects deeper than `max`, found by one scan of the text
 * before it is parsed. No body this API takes nests more than a few levels, and a deep one cost
 * a 500: the validator's message printed the value, and 5 000 `[` overflowed the stack.
 */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
