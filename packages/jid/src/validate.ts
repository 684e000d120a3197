/**
 * Normalization and validation of the three parts of a JID (RFC 7622), kept practical: case
 * folding, NFC, the characters that break JIDs or XML, and the length limits; not full PRECIS.
 */
import { detectEscape, escapeLocal } from './escaping.js';
import { InvalidJIDError, codePoint, type JIDPart } from './InvalidJIDError.js';

/** Largest size of each part, in bytes of UTF-8 (RFC 7622 section 3). */
export const MAX_PART_BYTES = 1023;

/** How a local part is escaped: never (wire form), when needed (user-facing form), or always. */
export type EscapeMode = 'none' | 'detect' | 'force';

/** A character's description and what follows it in the message, or undefined if it is allowed. */
type CharRule = (char: string) => [what: string, why: string] | undefined;

const CONTROL = /^\p{Cc}$/u;
const SURROGATE = /^\p{Cs}$/u;
const WHITESPACE = /^\s$/u;
const LOCAL_FORBIDDEN = /^["&'/:<>@]$/;
const DOMAIN_ASCII = /^[a-z0-9._-]$/;
const NON_ASCII = /[^\u0000-\u007f]/;
/** Label separators that RFC 7622 section 3.2 maps to "." */
const LABEL_SEPARATORS = /[\u3002\uff0e\uff61]/g;
const MAX_LABEL = 63;

function anywhere(char: string): [string, string] | undefined {
  if (CONTROL.test(char)) return [`the control character ${codePoint(char)}`, ', which is not allowed anywhere in a JID'];
  if (SURROGATE.test(char)) return [`an unpaired surrogate (${codePoint(char)})`, ', which is not valid Unicode'];
  return undefined;
}

function whitespace(char: string): string {
  return char === ' ' ? 'a space (U+0020)' : `the whitespace character ${codePoint(char)}`;
}

const localRule: CharRule = (char) => {
  const bad = anywhere(char);
  if (bad) return bad;
  const escape = `; write it escaped as "\\${char.charCodeAt(0).toString(16)}" (XEP-0106), or give the unescaped local part to new JID(local, domain), which escapes it`;
  if (char === ' ') return [whitespace(char), `, which is not allowed in a local part${escape}`];
  if (WHITESPACE.test(char)) return [whitespace(char), ', which is not allowed in a local part'];
  if (LOCAL_FORBIDDEN.test(char)) return [`"${char}" (${codePoint(char)})`, `, which is not allowed in a local part${escape}`];
  return undefined;
};

const domainRule: CharRule = (char) => {
  const bad = anywhere(char);
  if (bad) return bad;
  if (WHITESPACE.test(char)) return [whitespace(char), ', which is not allowed in a domain'];
  if (NON_ASCII.test(char) || DOMAIN_ASCII.test(char)) return undefined;
  let hint = '';
  if (char === '@') hint = '; a JID has at most one "@", before the domain (an "@" inside a local part is escaped as "\\40")';
  else if (char === ':') hint = '; a JID domain has no port, and IPv6 addresses go in brackets, like [::1]';
  return [`"${char}" (${codePoint(char)})`, `, which is not allowed in a domain${hint}`];
};

const resourceRule: CharRule = anywhere;

function checkChars(part: JIDPart, value: string, shown: string, rule: CharRule, input: string | undefined): void {
  let index = 0;
  for (const char of value) {
    const problem = rule(char);
    if (problem) throw new InvalidJIDError(part, shown, `contains ${problem[0]} at index ${index}${problem[1]}`, input);
    index++;
  }
}

/** Length of a string in UTF-8 bytes. */
export function byteLength(value: string): number {
  let bytes = 0;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function checkLength(part: JIDPart, value: string, shown: string, input: string | undefined, note = ''): void {
  const bytes = byteLength(value);
  if (bytes > MAX_PART_BYTES) {
    throw new InvalidJIDError(part, shown, `is ${bytes} bytes long in UTF-8${note}; the limit is ${MAX_PART_BYTES} bytes`, input);
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A string, or '' for undefined/null; anything else is an error. */
function optionalString(part: JIDPart, value: unknown, input: string | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidJIDError(part, '', `must be a string, not ${typeName(value)}`, input);
  return value;
}

/**
 * The normalized local part ('' for none): NFC, XEP-0106 escaping as `mode` says, lower case.
 * Throws InvalidJIDError when it is too long or contains characters a local part cannot have.
 */
export function prepareLocal(value: unknown, mode: EscapeMode, input?: string): string {
  const given = optionalString('local', value, input);
  if (given === '') return '';
  let local = given.normalize('NFC');
  let note = '';
  if (mode === 'force' || (mode === 'detect' && detectEscape(local))) {
    local = escapeLocal(local);
    if (local === '') throw new InvalidJIDError('local', given, 'contains nothing but whitespace', input);
    note = ' once escaped';
  }
  local = local.toLowerCase();
  checkLength('local', local, given, input, note);
  checkChars('local', local, given, localRule, input);
  return local;
}

/**
 * The normalized domain: NFC, lower case, ideographic full stops mapped to ".", one trailing dot
 * removed. Throws InvalidJIDError when it is empty, too long, an invalid IPv6 literal, or contains
 * characters a domain cannot have.
 */
export function prepareDomain(value: unknown, input?: string): string {
  if (value === undefined || value === null) throw new InvalidJIDError('domain', '', 'is missing', input);
  if (typeof value !== 'string') throw new InvalidJIDError('domain', '', `must be a string, not ${typeName(value)}`, input);
  let domain = value.normalize('NFC').replace(LABEL_SEPARATORS, '.').toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain === '') throw new InvalidJIDError('domain', value, value === '' ? 'is empty' : 'is empty once its trailing dot is removed', input);
  checkLength('domain', domain, value, input);

  if (domain.startsWith('[') || domain.endsWith(']')) {
    if (domain.length < 3 || !domain.startsWith('[') || !domain.endsWith(']') || !isIPv6(domain.slice(1, -1))) {
      throw new InvalidJIDError('domain', value, 'is not a valid IPv6 address literal (expected something like [2001:db8::1])', input);
    }
    return domain;
  }

  checkChars('domain', domain, value, domainRule, input);
  for (const label of domain.split('.')) {
    if (label === '') {
      throw new InvalidJIDError('domain', value, 'contains an empty label (it starts with "." or contains "..")', input);
    }
    if (label.length > MAX_LABEL && !NON_ASCII.test(label)) {
      throw new InvalidJIDError('domain', value, `has a label of ${label.length} characters; DNS labels have at most ${MAX_LABEL}`, input);
    }
  }
  return domain;
}

/** The normalized resource ('' for none): NFC, case kept. Throws InvalidJIDError when too long or with control characters. */
export function prepareResource(value: unknown, input?: string): string {
  const given = optionalString('resource', value, input);
  if (given === '') return '';
  const resource = given.normalize('NFC');
  checkLength('resource', resource, given, input);
  checkChars('resource', resource, given, resourceRule, input);
  return resource;
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/;
const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function isIPv4(text: string): boolean {
  const octets = text.split('.');
  return octets.length === 4 && octets.every((octet) => IPV4_OCTET.test(octet));
}

/** Whether `text` (lower case, without brackets) is an IPv6 address, optionally ending in dotted IPv4. */
export function isIPv6(text: string): boolean {
  let address = text;
  const lastColon = address.lastIndexOf(':');
  if (lastColon === -1) return false;
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const all = [...groups(halves[0]), ...groups(halves[1])];
  if (!all.every((group) => HEX_GROUP.test(group))) return false;
  return halves.length === 2 ? all.length <= 7 : all.length === 8;
}
