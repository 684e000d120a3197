/**
 * SASLprep (RFC 4013), the stringprep (RFC 3454) profile for user names and passwords.
 *
 * Exact for the RFC 3454 tables as they apply after mapping and NFKC: C.1.2 (mapped to
 * SPACE), B.1 (mapped to nothing), C.2 to C.9 (prohibited) and D.1 (RandALCat). Two
 * approximations keep the module small, both relying on the Unicode version of the
 * JavaScript engine instead of Unicode 3.2:
 * - unassigned code points (table A.1) are those of general category Cn, so code points
 *   assigned after Unicode 3.2 are accepted even without `allowUnassigned`;
 * - LCat (table D.2) is approximated as letters, spacing marks and digits other than 0-9
 *   outside the right-to-left blocks. It only matters for strings that contain a RandALCat
 *   character.
 * Letters assigned after Unicode 3.2 in the Hebrew to Arabic Extended-A blocks count as
 * RandALCat; NFKC is `String.prototype.normalize('NFKC')`.
 */
import type { Credentials } from './types.js';
import { saslError } from './util.js';

export interface SASLprepOptions {
  /** accept unassigned code points (a "query" in RFC 3454 terms); default false ("stored string") */
  allowUnassigned?: boolean;
  /** what the string is, for the error: condition `invalid-${field}` and text `${field} contains ...`; default 'password' */
  field?: string;
}

/** D.1 (after NFKC): the right-to-left blocks Hebrew to Arabic Extended-A, without marks, digits and a few symbols. */
const RANDAL = /(?![\p{M}\p{N}\u060c\u066a-\u066c\u06de\u06e9])[\u0590-\u08ff\ufe73]/u;
/** Approximation of D.2: letters, spacing marks and digits other than 0-9, outside the right-to-left blocks (BMP and plane 1). */
const LCAT = /(?![0-9\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u{10800}-\u{10fff}\u{1e800}-\u{1efff}])[\p{L}\p{Mc}\p{Nd}]/u;
/** C.2.1, C.2.2, C.3, C.4, C.5 (lone surrogates), C.6, C.7, C.8, C.9; C.1.2 is mapped to SPACE before. */
const PROHIBITED =
  /[\p{Cc}\p{Co}\p{Cs}\p{NChar}\u06dd\u070f\u180e\u200e\u200f\u2028-\u202e\u2060-\u2063\u206a-\u206f\u2ff0-\u2ffb\ufff9-\ufffd\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}]/u;

/** Throw `SASLError('invalid-${field}')` with the text `${field} ${text}`. */
export const fail = (field: string, text: string): never => {
  throw saslError(`invalid-${field}`, `${field} ${text}`);
};

/**
 * Prepare `str` with SASLprep. Throws `SASLError('invalid-password')` (or
 * `invalid-${opts.field}`) with a text naming the offending code point.
 */
export function saslprep(str: string, { allowUnassigned, field = 'password' }: SASLprepOptions = {}): string {
  // 1. Map (C.1.2 to SPACE, B.1 to nothing), 2. Normalize
  const prepared = str
    .replace(/[\p{Zs}\u200b]/gu, ' ')
    .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/gu, '')
    .normalize('NFKC');
  const check = (re: RegExp, text: string): void => {
    const char = re.exec(prepared)?.[0];
    if (char) fail(field, `${text} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  };
  // 3. Prohibit, and 2.5 unassigned code points
  check(PROHIBITED, 'contains a prohibited character');
  if (!allowUnassigned) check(/\p{Cn}/u, 'contains an unassigned code point');
  // 4. Bidi (RFC 3454 section 6)
  if (RANDAL.test(prepared)) {
    check(LCAT, 'mixes right-to-left and left-to-right characters');
    // every RandALCat character is in the BMP, so the first and last UTF-16 units are enough
    if (!RANDAL.test(prepared[0]!) || !RANDAL.test(prepared.at(-1)!)) fail(field, 'contains right-to-left characters but does not start and end with one');
  }
  return prepared;
}

/** The SASLprepped username and password, both required (PLAIN and SCRAM). */
export const prepare = (credentials: Credentials) =>
  (['username', 'password'] as const).map((field) => saslprep(credentials[field] ?? '', { allowUnassigned: true, field }) || fail(field, 'is required')) as [
    username: string,
    password: string,
  ];
