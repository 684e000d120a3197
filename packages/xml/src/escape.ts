import { XMLError } from './XMLError.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const entity = (char: string): string => ENTITIES[char] as string;

// test() first: much cheaper than a replace() with a callback, and most strings have nothing to escape.
// (A true test() leaves lastIndex set, and the replace() that follows resets it.)
const escaper =
  (special: RegExp) =>
  (value: string): string =>
    special.test(value) ? value.replace(special, entity) : value;

/** Escape a string for use in an attribute value: `& < > " '`. */
export const escapeXML = escaper(/[&<>"']/g);
/** Escape a string for use as element text: `& < >`. */
export const escapeXMLText = escaper(/[&<>]/g);

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#(x[\dA-Fa-f]{1,6}|\d{1,7})|([A-Za-z]{2,4}));|&/g;
const XML_CHAR = /^[\t\n\r -\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]$/u;

function decode(ref: string, code?: string, name?: string): string {
  const n = Number(`0${code}`); // "0x41" or "065"; NaN for a bare "&"
  const char = name ? NAMED[name] : n < 0x110000 ? String.fromCodePoint(n) : '';
  if (char && (name || XML_CHAR.test(char))) return char;
  // XMPP forbids DTDs, so only the five predefined entities can exist (RFC 6120 section 11.1).
  if (name) throw new XMLError('restricted-xml', `undefined entity ${ref}`);
  throw new XMLError('bad-format', code ? `invalid character ${ref}` : 'unescaped "&"');
}

/** Replace the predefined entities and character references; throws XMLError on anything else. */
export function unescapeXML(value: string): string {
  return value.includes('&') ? value.replace(REFERENCE, decode) : value;
}
