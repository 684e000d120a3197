import { XMLError } from './XMLError.js';

const SPECIAL = /[&<>"']/g;
const SPECIAL_TEXT = /[&<>]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const entity = (c: string): string => ENTITIES[c] as string;

// test() first: much cheaper than a replace() with a callback, and most strings have nothing to escape.
/** Escape a string for use in an attribute value: `& < > " '`. */
export function escapeXML(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL, entity) : value;
}

/** Escape a string for use as element text: `& < >`. */
export function escapeXMLText(value: string): string {
  return SPECIAL_TEXT.test(value) ? value.replace(SPECIAL_TEXT, entity) : value;
}

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
