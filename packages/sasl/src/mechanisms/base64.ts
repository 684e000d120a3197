/**
 * Base64 (RFC 4648, standard alphabet, padded) for Uint8Array, without Buffer:
 * works in Node 20 and browsers through `btoa`/`atob` on byte strings.
 */
import { SASLError } from '@xmppkit/error';

/** Encode bytes as padded base64. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Decode padded base64. ASCII whitespace is ignored; anything else outside the
 * alphabet, or missing/misplaced padding, throws `SASLError('incorrect-encoding')`.
 */
export function base64Decode(text: string): Uint8Array<ArrayBuffer> {
  try {
    // atob ignores ASCII whitespace and rejects the rest, but accepts missing padding.
    if (text.replace(/\s/g, '').length % 4 == 0) return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {}
  throw new SASLError('incorrect-encoding', { text: 'invalid base64' });
}
