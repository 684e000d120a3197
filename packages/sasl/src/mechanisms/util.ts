/**
 * Helpers shared by the mechanisms and the stream feature: UTF-8, base64 (RFC 4648, standard
 * alphabet, padded) without Buffer, through `btoa`/`atob` on byte strings (Node 20 and browsers),
 * and SASLError.
 */
import { SASLError } from '@xmppkit/error';

export const saslError = (condition: string, text: string): SASLError => new SASLError(condition, { text });

const encoder = new TextEncoder();
/** The UTF-8 bytes of `text`. */
export const utf8 = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text);

/** Encode bytes as padded base64. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The bytes of padded base64 (ASCII whitespace ignored), or undefined when `text` is anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    // atob ignores ASCII whitespace and rejects the rest, but accepts missing padding.
    if (text.replace(/\s/g, '').length % 4 == 0) return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {}
}

/**
 * Decode padded base64. ASCII whitespace is ignored; anything else outside the
 * alphabet, or missing/misplaced padding, throws `SASLError('incorrect-encoding')`.
 */
export function base64Decode(text: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(text);
  if (bytes) return bytes;
  throw saslError('incorrect-encoding', 'invalid base64');
}
