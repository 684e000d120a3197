/**
 * Base64 (RFC 4648, standard alphabet, padded) for Uint8Array, without Buffer:
 * works in Node 20 and browsers through `btoa`/`atob` on byte strings.
 */
import { SASLError } from '@xmppkit/error';

const CHUNK = 0x8000;

/** Encode bytes as padded base64. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode padded base64. ASCII whitespace is ignored; anything else outside the
 * alphabet, or missing/misplaced padding, throws `SASLError('incorrect-encoding')`.
 */
export function base64Decode(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/[\t\n\f\r ]+/g, '');
  if (!BASE64.test(clean)) throw new SASLError('incorrect-encoding', { text: 'invalid base64 data' });
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
