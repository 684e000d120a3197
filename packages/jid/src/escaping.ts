/**
 * XEP-0106 (JID Escaping) for the local part of a JID.
 *
 * The wire form of a local part never contains the characters ` "&'/:<>@`; a user-facing form
 * that does is escaped to `\20 \22 \26 \27 \2f \3a \3c \3e \40`, and `\` itself becomes `\5c`.
 */

/** The escape sequences of XEP-0106 (lowercase only: the XEP says case is significant). */
const SEQUENCE = /\\(2[0267f]|3[ace]|40|5c)/g;
/** Characters that escaping rewrites. */
const ESCAPABLE = /[ "&'/:<>@\\]/g;

/**
 * Whether a local part given in user-facing form needs escaping: true when, once the existing
 * escape sequences are set aside, it still contains a character that XEP-0106 escapes.
 * `space\20cadet` (already escaped) gives false, `space cadet` and `c:\net` give true.
 */
export function detectEscape(local: string | null | undefined): boolean {
  return !!local && local.replace(SEQUENCE, '').search(ESCAPABLE) >= 0;
}

/**
 * Escape a user-facing local part: trim surrounding whitespace (`\20` may not start or end a
 * local part), then replace every escapable character, the backslash included.
 * `escapeLocal('c:\\net')` is `'c\\3a\\5cnet'`.
 */
export function escapeLocal(local: string): string {
  return local.trim().replace(ESCAPABLE, (c) => `\\${c.charCodeAt(0).toString(16)}`);
}

/**
 * Replace the XEP-0106 escape sequences by the characters they stand for, for display.
 * Anything that is not one of the ten sequences (`\2plus`, `foo\bar`, `\41`) is left as is.
 */
export function unescapeLocal(local: string): string {
  return local.replace(SEQUENCE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
