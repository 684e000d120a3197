import { Element } from './Element.js';
import { XMLError } from './XMLError.js';

/** the Node parser's default maxDepth: the element itself is level 1 */
const MAX_DEPTH = 64;
/** an XML declaration at the start: fine, as with the Node parser (inside our wrapper DOMParser would refuse it) */
const DECLARATION = /^[ \t\r\n]*<\?xml(\s[^]*?)?\?>/;
/** CDATA sections, an unterminated one running to the end: their content is text, never markup */
const CDATA = /<!\[CDATA\[[^]*?(\]\]>|$)/g;
/**
 * What RFC 6120 section 11 forbids: comments, processing instructions and DTDs (`<!`, `<?`), and
 * entities other than the five predefined ones (named as the Node parser reads them, so that both
 * refuse the same references).
 */
const RESTRICTED = /<[!?]|&(?!(amp|lt|gt|quot|apos);)[A-Za-z]{2,4};/;
/** character references longer than the Node parser reads (7 decimal or 6 hex digits, leading zeros included) */
const LONG_REFERENCE = /&#(?!(x[\dA-Fa-f]{1,6}|\d{1,7});)/;

/**
 * Parse one complete XML element from a string, with the platform's DOMParser: the browser build's
 * parse(), which the WebSocket transport runs on each frame (a whole element, RFC 7395 section 3.3.3).
 * Throws an XMLError with the condition the Node build's parse() gives.
 */
export function parse(text: string): Element {
  const frame = text.replace(DECLARATION, '');
  // Refused on the text itself, before DOMParser runs: no DTD is ever processed.
  const markup = frame.replace(CDATA, '');
  const restricted = RESTRICTED.exec(markup);
  if (restricted) throw new XMLError('restricted-xml', `${restricted[0]} is not allowed`);
  if (LONG_REFERENCE.test(markup)) throw new XMLError('bad-format', 'invalid character reference');
  // The frame comes after an element of our own, which nothing in the frame can precede. On an error,
  // Chromium and WebKit insert a <parsererror> before the document element's first child, and Firefox
  // replaces the document element with one: either way the document element no longer starts with <x/>.
  const first = new DOMParser().parseFromString(`<w><x/>${frame}</w>`, 'text/xml').documentElement.firstChild;
  let found: globalThis.Element | undefined;
  let valid = first?.nodeName === 'x';
  for (let node = first?.nextSibling; node; node = node.nextSibling) {
    // exactly one element, with nothing but whitespace around it (no text, no CDATA section)
    if (node.nodeType === 1 && !found) found = node as globalThis.Element;
    else if (node.nodeType !== 3 || /[^ \t\r\n]/.test((node as Text).data)) valid = false;
  }
  if (!valid || !found) throw new XMLError('bad-format', 'not one well-formed element');
  return toElement(found, 1);
}

/** An Element with every attribute (namespace declarations included) by qualified name; adjacent text and CDATA make one string. */
function toElement(node: globalThis.Element, depth: number): Element {
  if (depth > MAX_DEPTH) throw new XMLError('policy-violation', `elements nested deeper than ${MAX_DEPTH}`);
  const element = new Element(node.tagName);
  for (const name of node.getAttributeNames()) element.attrs[name] = node.getAttribute(name) as string;
  const children = element.children;
  for (let child = node.firstChild; child; child = child.nextSibling) {
    const last = children.length - 1;
    if (child.nodeType === 1) element.appendChild(toElement(child as globalThis.Element, depth + 1));
    else if (typeof children[last] === 'string') children[last] += (child as Text).data;
    else children.push((child as Text).data);
  }
  return element;
}
