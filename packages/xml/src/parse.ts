import type { Element } from './Element.js';
import { Parser } from './Parser.js';
import { XMLError } from './XMLError.js';

const found: Element[] = [];
/**
 * One fragments-mode parser for every call (parse() runs once per WebSocket frame), made on first use
 * and reset before each text. It has no `error` listener, so write() throws the XMLError; and no size
 * limit of its own.
 */
let parser: Parser | undefined;

/** Parse one complete XML element from a string. Throws XMLError when it is not exactly one well-formed element. */
export function parse(text: string): Element {
  parser ??= new Parser({ mode: 'fragments', maxStanzaSize: Infinity }).on('element', (el) => found.push(el));
  parser.reset();
  found.length = 0;
  parser.write(text);
  // Text after the last '>' that is not whitespace is an unfinished tag (a stray text would have failed).
  // Most texts end with '>': they skip the slice.
  if (found.length !== 1 || (text.charCodeAt(text.length - 1) !== 62 && /\S/.test(text.slice(text.lastIndexOf('>') + 1)))) {
    throw new XMLError('bad-format', 'expected exactly one complete element');
  }
  return found.pop() as Element;
}
