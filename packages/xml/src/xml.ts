import { Element, type Node } from './Element.js';

/** Attribute values accepted by `xml()`: `null`/`undefined` drop the attribute, numbers and booleans are stringified. */
export type AttrsInput = Record<string, string | number | boolean | null | undefined>;
/** Children accepted by `xml()`: nested arrays are flattened; `null`, `undefined`, booleans and `''` are skipped. */
export type Child = Node | number | boolean | null | undefined | readonly Child[];

function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child != null && child !== '' && typeof child !== 'boolean') parent.appendChild(typeof child === 'object' ? (child as Element) : String(child));
  }
}

/**
 * Build an element. The second argument is the attributes, or a namespace string.
 *
 * ```js
 * xml('iq', { type: 'get', id: 'p1' }, xml('ping', 'urn:xmpp:ping'))
 * ```
 */
export function xml(name: string, attrs?: AttrsInput | string | null, ...children: Child[]): Element {
  const el = new Element(name);
  if (typeof attrs === 'string') el.attrs.xmlns = attrs;
  else {
    for (const key in attrs) {
      const value = attrs[key];
      if (value != null) el.attrs[key] = String(value);
    }
  }
  append(el, children);
  return el;
}
