import { XMLError } from './XMLError.js';

const ESCAPE_ATTR = /[&<>"']/g;
const ESCAPE_TEXT = /[&<>]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const replaceEntity = (c: string): string => ENTITIES[c] as string;

/** Escape a string for use in an attribute value. */
export function escapeXML(value: string): string {
  return ESCAPE_ATTR.test(value) ? value.replace(ESCAPE_ATTR, replaceEntity) : value;
}

/** Escape a string for use as element text. */
export function escapeXMLText(value: string): string {
  return ESCAPE_TEXT.test(value) ? value.replace(ESCAPE_TEXT, replaceEntity) : value;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,4});|&/g;

function decodeReference(match: string, ref: string | undefined): string {
  if (ref === undefined) throw new XMLError('bad-format', 'unescaped "&" in character data');
  if (ref.charCodeAt(0) === 35 /* # */) {
    const code = ref.charCodeAt(1) === 120 /* x */ ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!isXMLChar(code)) throw new XMLError('bad-format', `character reference ${match} is not an XML character`);
    return String.fromCodePoint(code);
  }
  const named = NAMED[ref];
  // XMPP forbids DTDs, so only the five predefined entities can exist (RFC 6120 section 11.1).
  if (named === undefined) throw new XMLError('restricted-xml', `undefined entity ${match}`);
  return named;
}

/** Replace the predefined entities and character references; throws XMLError on anything else. */
export function unescapeXML(value: string): string {
  return value.indexOf('&') === -1 ? value : value.replace(REFERENCE, decodeReference);
}

function isXMLChar(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
  );
}
