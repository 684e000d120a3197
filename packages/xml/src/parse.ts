import { Element } from './Element.js';
import { Parser } from './Parser.js';
import { XMLError } from './XMLError.js';

/** Parse one complete XML element from a string. Throws XMLError when it is not exactly one well-formed element. */
export function parse(text: string): Element {
  const parser = new Parser({ mode: 'fragments', maxStanzaSize: Math.max(text.length, 1) });
  let result: Element | undefined;
  let error: XMLError | undefined;
  let count = 0;
  parser.on('element', (el) => {
    result = el;
    count++;
  });
  parser.on('error', (err) => {
    error = err;
  });
  parser.write(text);
  if (error) throw error;
  if (count !== 1 || result === undefined || !/^\s*$/.test(text.slice(text.lastIndexOf('>') + 1))) throw new XMLError('bad-format', 'expected exactly one complete element');
  return result;
}
