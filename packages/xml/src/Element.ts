// Only ltx's Element module: the package entry also loads ltx's parsers (and an EventEmitter),
// which xmppkit never uses since it has its own streaming parser.
import type { Element as LtxElementClass } from 'ltx';
import * as ltxElement from 'ltx/src/Element.js';

import { escapeXML, escapeXMLText } from './escape.js';

const LtxElement = (ltxElement as unknown as { default: typeof LtxElementClass }).default;

/**
 * The XML text of an element: the same output as ltx's `toString()`, built by plain string
 * concatenation (no writer callback per token), and escaping only strings that need it.
 */
function serialize(el: Element): string {
  let out = `<${el.name}`;
  const attrs = el.attrs;
  for (const key in attrs) {
    const value: unknown = attrs[key];
    if (value !== undefined && value !== null) out += ` ${key}="${escapeXML(typeof value === 'string' ? value : String(value))}"`;
  }
  const children = el.children as unknown[];
  if (children.length === 0) return `${out}/>`;
  out += '>';
  for (const child of children) {
    if (child === undefined || child === null) continue;
    if (typeof child === 'string') out += escapeXMLText(child);
    else if (child instanceof Element) out += serialize(child);
    else if (typeof (child as { write?: unknown }).write === 'function') out += String(child); // a plain ltx element
    else out += escapeXMLText(String(child));
  }
  return `${out}</${el.name}>`;
}

/** Attribute values of an element. `undefined` values are never serialised. */
export type Attrs = Record<string, string | undefined>;
/** A child of an element: an element or a text node. */
export type Node = Element | string;

/**
 * An XML element (an `ltx` element with precise types).
 *
 * ```js
 * const el = xml('message', { to: 'juliet@example.com' }, xml('body', {}, 'hi'));
 * el.is('message', 'jabber:client'); el.getChildText('body'); el.toString();
 * ```
 */
export class Element extends LtxElement {
  declare attrs: Attrs;
  declare children: Node[];
  declare parent: Element | null;

  constructor(name: string, attrs?: Attrs | string) {
    super(name, attrs);
  }

  override toString(): string {
    return serialize(this);
  }

  override getChild(name: string, xmlns?: string): Element | undefined {
    return super.getChild(name, xmlns) as Element | undefined;
  }

  override getChildren(name: string, xmlns?: string): Element[] {
    return super.getChildren(name, xmlns) as Element[];
  }

  override getChildElements(): Element[] {
    return super.getChildElements() as Element[];
  }

  override getAttr(name: string, xmlns?: string): string | undefined {
    return super.getAttr(name, xmlns) as string | undefined;
  }

  /** Append an element or text and return the appended element (like ltx `cnode`, typed). */
  appendChild<T extends Node>(child: T): T {
    this.children.push(child);
    if (typeof child === 'object') child.parent = this;
    return child;
  }
}
