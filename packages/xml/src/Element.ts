// Only ltx's Element module: the package entry also loads ltx's parsers (and an EventEmitter),
// which xmppkit never uses since it has its own streaming parser.
import type { Element as LtxElementClass } from 'ltx';
import * as ltxElement from 'ltx/src/Element.js';

const LtxElement = (ltxElement as unknown as { default: typeof LtxElementClass }).default;

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
