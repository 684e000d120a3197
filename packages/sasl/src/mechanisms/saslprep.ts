/**
 * SASLprep (RFC 4013), the stringprep (RFC 3454) profile for user names and passwords.
 *
 * Exact RFC 3454 tables: C.1.2 (mapped to SPACE, then prohibited), B.1 (mapped to
 * nothing), C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9 (prohibited) and D.1
 * (RandALCat). Two approximations keep the module small, both relying on the Unicode
 * version of the JavaScript engine instead of Unicode 3.2:
 * - unassigned code points (table A.1) are those of general category Cn, so code points
 *   assigned after Unicode 3.2 are accepted even without `allowUnassigned`;
 * - LCat (table D.2) is approximated as letters, spacing marks and decimal digits of
 *   non-Common scripts, excluding RandALCat and right-to-left scripts. It only matters
 *   for strings that contain a RandALCat character.
 * NFKC is `String.prototype.normalize('NFKC')`.
 */
import { SASLError } from '@xmppkit/error';

export interface SASLprepOptions {
  /** accept unassigned code points (a "query" in RFC 3454 terms); default false ("stored string") */
  allowUnassigned?: boolean;
  /** what the string is, for the error: condition `invalid-${field}` and text `${field} contains ...`; default 'password' */
  field?: string;
}

type Ranges = readonly (readonly [number, number])[];

/** C.1.2 Non-ASCII space characters. */
const SPACES = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
/** B.1 Commonly mapped to nothing. */
const NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/** C.1.2, C.2.1, C.2.2, C.3, C.5 (lone surrogates), C.6, C.7, C.8, C.9; C.4 is tested arithmetically. */
const PROHIBITED: Ranges = [
  [0x0000, 0x001f], [0x007f, 0x00a0], [0x0340, 0x0341], [0x06dd, 0x06dd], [0x070f, 0x070f],
  [0x1680, 0x1680], [0x180e, 0x180e], [0x2000, 0x200f], [0x2028, 0x202f], [0x205f, 0x2063],
  [0x206a, 0x206f], [0x2ff0, 0x2ffb], [0x3000, 0x3000], [0xd800, 0xf8ff], [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff], [0xfff9, 0xfffd], [0x1d173, 0x1d17a], [0xe0001, 0xe0001], [0xe0020, 0xe007f],
  [0xf0000, 0xffffd], [0x100000, 0x10fffd],
];

/** D.1 Characters with bidirectional property "R" or "AL". */
const RANDAL: Ranges = [
  [0x05be, 0x05be], [0x05c0, 0x05c0], [0x05c3, 0x05c3], [0x05d0, 0x05ea], [0x05f0, 0x05f4],
  [0x061b, 0x061b], [0x061f, 0x061f], [0x0621, 0x063a], [0x0640, 0x064a], [0x066d, 0x066f],
  [0x0671, 0x06d5], [0x06dd, 0x06dd], [0x06e5, 0x06e6], [0x06fa, 0x06fe], [0x0700, 0x070d],
  [0x0710, 0x0710], [0x0712, 0x072c], [0x0780, 0x07a5], [0x07b1, 0x07b1], [0x200f, 0x200f],
  [0xfb1d, 0xfb1d], [0xfb1f, 0xfb28], [0xfb2a, 0xfb36], [0xfb38, 0xfb3c], [0xfb3e, 0xfb3e],
  [0xfb40, 0xfb41], [0xfb43, 0xfb44], [0xfb46, 0xfbb1], [0xfbd3, 0xfd3d], [0xfd50, 0xfd8f],
  [0xfd92, 0xfdc7], [0xfdf0, 0xfdfc], [0xfe70, 0xfe74], [0xfe76, 0xfefc],
];

/** Approximation of D.2 (see the module comment); RandALCat is excluded separately. */
const LCAT = /[\p{L}\p{Mc}]|(?![\p{Script=Common}\p{Script=Inherited}])\p{Nd}/u;
const RTL_SCRIPT =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Yezidi}]/u;
const UNASSIGNED = /\p{Cn}/u;

function inRanges(cp: number, ranges: Ranges): boolean {
  for (const [from, to] of ranges) {
    if (cp < from) return false;
    if (cp <= to) return true;
  }
  return false;
}

const isProhibited = (cp: number) => inRanges(cp, PROHIBITED) || (cp & 0xfffe) === 0xfffe;
const isRandAL = (cp: number) => inRanges(cp, RANDAL);
const isL = (char: string, cp: number) => LCAT.test(char) && !RTL_SCRIPT.test(char) && !isRandAL(cp);

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Prepare `str` with SASLprep. Throws `SASLError('invalid-password')` (or
 * `invalid-${opts.field}`) with a text naming the offending code point.
 */
export function saslprep(str: string, opts: SASLprepOptions = {}): string {
  const field = opts.field ?? 'password';
  const fail = (text: string): never => {
    throw new SASLError(`invalid-${field}`, { text: `${field} ${text}` });
  };

  // 1. Map, 2. Normalize
  const prepared = str.replace(SPACES, ' ').replace(NOTHING, '').normalize('NFKC');
  const chars = Array.from(prepared);
  const cps = chars.map((c) => c.codePointAt(0) ?? 0);

  // 3. Prohibit, and 2.5 unassigned code points
  for (const [i, cp] of cps.entries()) {
    if (isProhibited(cp)) fail(`contains a prohibited character (${hex(cp)})`);
    if (!opts.allowUnassigned && UNASSIGNED.test(chars[i] ?? '')) fail(`contains an unassigned code point (${hex(cp)})`);
  }

  // 4. Bidi (RFC 3454 section 6)
  const first = cps[0];
  const last = cps[cps.length - 1];
  if (first !== undefined && last !== undefined && cps.some(isRandAL)) {
    const l = cps.findIndex((cp, i) => isL(chars[i] ?? '', cp));
    if (l !== -1) fail(`mixes right-to-left and left-to-right characters (${hex(cps[l] ?? 0)})`);
    if (!isRandAL(first) || !isRandAL(last)) fail('contains right-to-left characters but does not start and end with one');
  }
  return prepared;
}
