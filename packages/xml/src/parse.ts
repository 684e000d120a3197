import type { Element } from './Element.js';
import { Parser } from './Parser.js';
import { XMLError } from './XMLError.js';

/** Parse one complete XML element from a string. Throws XMLError when it is not exactly one well-formed element. */
export function parse(text: string): Element {
  const found: Element[] = [];
  // No `error` listener: write() throws the parser's XMLError.
  new Parser({ mode: 'fragments', maxStanzaSize: text.length }).on('element', (el) => found.push(el)).write(text);
  // Text after the last '>' that is not whitespace is an unfinished tag (a stray text would have failed).
  if (found.length !== 1 || /\S/.test(text.slice(text.lastIndexOf('>') + 1))) throw new XMLError('bad-format', 'expected exactly one complete element');
  return found[0] as Element;
}
