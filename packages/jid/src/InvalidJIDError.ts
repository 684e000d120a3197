/** Which part of a JID a problem was found in; `address` is the JID string as a whole. */
export type JIDPart = 'address' | 'local' | 'domain' | 'resource';

/** `U+003C` style name of the first code point of a string. */
export const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Quote a value for an error message: cut after 63 characters when longer than 64; control characters and unpaired surrogates shown as <U+XXXX>. */
const quote = (value: string): string => `"${value.replace(/^(.{63}).{2,}$/su, '$1…').replace(/[\p{Cc}\p{Cs}]/gu, (c) => `<${codePoint(c)}>`)}"`;

/**
 * Thrown when a JID, or one of its parts, is not valid. The message names the part, shows the
 * offending value and says what is wrong with it.
 */
export class InvalidJIDError extends Error {
  override name = 'InvalidJIDError';
  /** the part that is invalid */
  declare readonly part: JIDPart;
  /** what is wrong with it, without the part's name or value */
  declare readonly reason: string;
  /** the string that was being parsed, when the JID came from a string */
  declare readonly input: string | undefined;

  constructor(part: JIDPart, value: string, reason: string, input?: string) {
    super(
      `Invalid JID${input === undefined ? '' : ` ${quote(input)}`}: the ${part === 'local' ? 'local part' : part}${value && value !== input ? ` ${quote(value)}` : ''} ${reason}`,
    );
    this.part = part;
    this.reason = reason;
    this.input = input;
  }
}
