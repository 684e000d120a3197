/**
 * Normalization and validation of the three parts of a JID (RFC 7622), kept practical: case
 * folding, NFC, the characters that break JIDs or XML, and the length limits; not full PRECIS.
 */
import { detectEscape, escapeLocal } from './escaping.js';
import { InvalidJIDError, codePoint, type JIDPart } from './InvalidJIDError.js';

/** Largest size of each part, in bytes of UTF-8 (RFC 7622 section 3). */
export const MAX_PART_BYTES = 1023;

type Part = Exclude<JIDPart, 'address'>;

/**
 * The first character a part may not have: control characters and unpaired surrogates anywhere;
 * whitespace and what XEP-0106 escapes in a local part; whitespace and ASCII other than (lower
 * case) letters, digits, "-", "_" and "." in a domain.
 */
const FORBIDDEN: Record<Part, RegExp> = {
  local: /[\p{Cc}\p{Cs}\s"&'/:<>@]/u,
  domain: /[\p{Cc}\p{Cs}\s]|[^-.\w\x80-\u{10ffff}]/u,
  resource: /[\p{Cc}\p{Cs}]/u,
};

/** The reason given for a value that should be a string. */
export const notString = (value: unknown): string => `must be a string, not ${value === null ? 'null' : typeof value}`;

/**
 * The normalized part ('' for an absent local part or resource): NFC; the local part escaped
 * (XEP-0106) when `force`, or when it needs it and does not come from a parsed string (`input`);
 * the domain with "。．｡" mapped to "." and one trailing dot removed; local part and domain lower
 * case. Throws InvalidJIDError when the value is not a string, empty (domain), too long, or has a
 * character it may not have.
 */
export function prepare(part: Part, value: unknown, input?: string, force?: boolean): string {
  if (part !== 'domain' && (value == null || value === '')) return '';
  try {
    if (typeof value !== 'string') throw notString(value);
    let prepared = value.normalize('NFC');
    let note = '';
    if (part === 'local' && (force || (input === undefined && detectEscape(prepared)))) {
      prepared = escapeLocal(prepared);
      note = ' once escaped';
    }
    if (part === 'domain') prepared = prepared.replace(/[\u3002\uff0e\uff61]/g, '.').replace(/\.$/, '');
    if (part !== 'resource') prepared = prepared.toLowerCase();
    if (prepared === '') throw `is empty${note}`;

    // 341 UTF-16 code units are at most 1023 bytes of UTF-8: only longer values need counting
    const bytes = prepared.length > 341 ? new TextEncoder().encode(prepared).length : 0;
    if (bytes > MAX_PART_BYTES) throw `is ${bytes} bytes${note} (max ${MAX_PART_BYTES})`;

    if (part === 'domain' && /^\[|\]$/.test(prepared)) {
      // an IPv6 literal: the URL parser knows its syntax, once the characters are known to be safe
      try {
        if (/^\[[\da-f:.]+\]$/.test(prepared) && new URL(`http://${prepared}`)) return prepared;
      } catch {}
      throw 'is not a valid IPv6 address literal';
    }

    const bad = FORBIDDEN[part].exec(prepared);
    if (bad) {
      const char = bad[0];
      const what = /\p{Cc}/u.test(char) ? 'control character' : /\p{Cs}/u.test(char) ? 'unpaired surrogate' : /\s/.test(char) ? 'whitespace' : `"${char}"`;
      throw `contains ${what} (${codePoint(char)}) at index ${bad.index}`;
    }

    // an empty label, or an ASCII label of more than 63 characters (IDN labels are longer in Unicode)
    const label = part === 'domain' && /(^|\.)([\w-]{64,})?(\.|$)/.exec(prepared);
    if (label) throw label[2] ? `has a label of ${label[2].length} characters (max 63)` : 'contains an empty label';
    return prepared;
  } catch (reason) {
    // the checks above throw the reason alone, as a string
    throw new InvalidJIDError(part, typeof value === 'string' ? value : '', reason as string, input);
  }
}
