/** Unbiased random strings from the Web Crypto CSPRNG (rejection sampling, no modulo bias). */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomString(length: number, alphabet = BASE62): string {
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit) out.push(alphabet[byte % alphabet.length] as string);
      if (out.length === length) break;
    }
  }
  return out.join('');
}

/** Hex SHA-256 of a string (for API keys and opaque tokens: high-entropy, so no salt needed). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}
