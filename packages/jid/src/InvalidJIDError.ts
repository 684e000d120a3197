/** Which part of a JID a problem was found in; `address` is the JID string as a whole. */
export type JIDPart = 'address' | 'local' | 'domain' | 'resource';

const LABELS: Record<JIDPart, string> = {
  address: 'the address',
  local: 'the local part',
  domain: 'the domain',
  resource: 'the resource',
};

const MAX_SHOWN = 64;

/** Quote a value for an error message: long values are cut, control characters shown as <U+XXXX>. */
export function quote(value: string): string {
  const chars = Array.from(value);
  const shown = chars.length > MAX_SHOWN ? `${chars.slice(0, MAX_SHOWN - 1).join('')}…` : value;
  return `"${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `<${codePoint(c)}>`)}"`;
}

/** `U+003C` style name of the first code point of a string. */
export function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Thrown when a JID, or one of its parts, is not valid. The message names the part, shows the
 * offending value and says what is wrong with it (and often how to fix it).
 */
export class InvalidJIDError extends Error {
  override name = 'InvalidJIDError';
  /** the part that is invalid */
  readonly part: JIDPart;
  /** what is wrong with it, without the part's name or value */
  readonly reason: string;
  /** the string that was being parsed, when the JID came from a string */
  readonly input: string | undefined;

  constructor(part: JIDPart, value: string, reason: string, input?: string) {
    const subject = value === '' || value === input ? LABELS[part] : `${LABELS[part]} ${quote(value)}`;
    super(`Invalid JID${input === undefined ? '' : ` ${quote(input)}`}: ${subject} ${reason}`);
    this.part = part;
    this.reason = reason;
    this.input = input;
  }
}
