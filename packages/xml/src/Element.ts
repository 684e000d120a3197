// Only ltx's Element module: the package entry also loads ltx's parsers (and an EventEmitter),
// which xmppkit never uses since it has its own streaming parser.
import type { Element as LtxElementClass } from 'ltx';
import * as ltxElement from 'ltx/src/Element.js';

import { escapeXML, escapeXMLText } from './escape.js';

const LtxElement = (ltxElement as unknown as { default: typeof LtxElementClass }).default;
// The same constructor, typed with our attributes.
const Base = LtxElement as unknown as new (name: string, attrs?: Attrs | string) => LtxElementClass;

/** Attribute values of an element. `undefined` values are never serialised. */
export type Attrs = Record<string, string | undefined>;
/** A child of an element: an element or a text node. */
export type Node = Element | string;

// ltx's methods, typed with our Element (declaration merging: no code).
export interface Element {
  attrs: Attrs;
  children: Node[];
  parent: Element | null;
  getChild(name: string, xmlns?: string): Element | undefined;
  getChildren(name: string, xmlns?: string): Element[];
  getChildElements(): Element[];
  getAttr(name: string, xmlns?: string): string | undefined;
  /** Append an element or text and return the appended element (ltx's `cnode`, typed). */
  appendChild<T extends Node>(child: T): T;
}

/**
 * An XML element (an `ltx` element with precise types).
 *
 * ```js
 * const el = xml('message', { to: 'juliet@example.com' }, xml('body', {}, 'hi'));
 * el.is('message', 'jabber:client'); el.getChildText('body'); el.toString();
 * ```
 */
export class Element extends Base {
  /**
   * The same text as ltx's `toString()`, built by plain concatenation instead of a writer callback per
   * token. `null`/`undefined` attributes and children are skipped.
   */
  override toString(): string {
    let out = `<${this.name}`;
    const attrs = this.attrs;
    for (const key in attrs) {
      const value = attrs[key];
      if (value != null) out += ` ${key}="${escapeXML(String(value))}"`;
    }
    const children = this.children as unknown[];
    if (children.length === 0) return `${out}/>`;
    out += '>';
    for (const child of children) {
      if (child != null) out += typeof child === 'string' ? escapeXMLText(child) : (child as Element).write ? (child as Element).toString() : escapeXMLText(String(child));
    }
    return `${out}</${this.name}>`;
  }
}

Element.prototype.appendChild = LtxElement.prototype.cnode;
