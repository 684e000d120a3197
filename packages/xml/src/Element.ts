import { escapeXML, escapeXMLText } from './escape.js';

/** Attribute values of an element. `undefined` values are never serialised. */
export type Attrs = Record<string, string | undefined>;
/** A child of an element: an element or a text node. */
export type Node = Element | string;

/** Matches the child elements that `is(name, xmlns)`. */
const named =
  (name: string, xmlns?: string) =>
  (child: Node): child is Element =>
    typeof child === 'object' && child.is(name, xmlns);

/**
 * An XML element, with every method of an [`ltx`](https://github.com/xmppjs/ltx) element (what xmpp.js
 * code uses) and the same behaviour, without depending on ltx.
 *
 * ```js
 * const el = xml('message', { to: 'juliet@example.com' }, xml('body', {}, 'hi'));
 * el.is('message', 'jabber:client'); el.getChildText('body'); el.toString();
 * ```
 */
export class Element {
  declare name: string;
  parent: Element | null = null;
  children: Node[] = [];
  attrs: Attrs = {};

  /** `attrs` is copied; a string is the `xmlns`. */
  constructor(name: string, attrs?: Attrs | string) {
    this.name = name;
    this.setAttrs(attrs);
  }

  /** The local name is `name`, and the namespace `xmlns` when given. */
  is(name: string, xmlns?: string): boolean {
    return this.getName() === name && (!xmlns || this.getNS() === xmlns);
  }

  /** The name without its prefix. */
  getName(): string {
    return this.name.slice(this.name.indexOf(':') + 1);
  }

  /** The namespace of the element: the one bound to its prefix, or the default one. */
  getNS(): string | undefined {
    // The prefix is what comes before ":" and the local name ('' without a prefix).
    return this.findNS(this.name.slice(0, -this.getName().length - 1));
  }

  /** The namespace bound to `prefix` (the default namespace without one), here or in an ancestor. */
  findNS(prefix?: string): string | undefined {
    return this.attrs[prefix ? `xmlns:${prefix}` : 'xmlns'] || this.parent?.findNS(prefix);
  }

  /** Every namespace declared here and in the ancestors, as `{ [namespace]: prefix }` (`''` for the default one). */
  getXmlns(): Record<string, string> {
    const namespaces = this.parent ? this.parent.getXmlns() : {};
    for (const attr of Object.keys(this.attrs)) {
      // ltx's test, kept as it is: unanchored.
      const match = /xmlns:?(.*)/.exec(attr);
      if (match) namespaces[this.attrs[attr] as string] = match[1] as string;
    }
    return namespaces;
  }

  /** Add attributes; a string sets `xmlns`. */
  setAttrs(attrs?: Record<string, unknown> | string): void {
    if (typeof attrs === 'string') this.attrs.xmlns = attrs;
    else if (attrs) Object.assign(this.attrs, attrs);
  }

  /**
   * The attribute `name`, or with `xmlns` the attribute `prefix:name` where an ancestor binds `prefix` to
   * `xmlns` (`null` when no prefix is bound to it).
   */
  getAttr(name: string): string | undefined;
  getAttr(name: string, xmlns: string | undefined): string | null | undefined;
  getAttr(name: string, xmlns?: string): string | null | undefined {
    if (!xmlns) return this.attrs[name];
    const prefix = this.getXmlns()[xmlns];
    // null when no prefix is bound to xmlns, as in ltx
    return prefix ? this.attrs[`${prefix}:${name}`] : null;
  }

  /** The first child element named `name` (and in namespace `xmlns` when given). */
  getChild(name: string, xmlns?: string): Element | undefined {
    return this.children.find(named(name, xmlns));
  }

  /** The child elements named `name` (and in namespace `xmlns` when given). */
  getChildren(name: string, xmlns?: string): Element[] {
    return this.children.filter(named(name, xmlns));
  }

  /** The first child (or descendant, with `recursive`) whose attribute `attr` is `value`. */
  getChildByAttr(attr: string, value: unknown, xmlns?: string, recursive?: boolean): Element | undefined {
    return this.getChildrenByAttr(attr, value, xmlns, recursive)[0];
  }

  /** The children (or descendants, with `recursive`) whose attribute `attr` is `value` (and in namespace `xmlns` when given). */
  getChildrenByAttr(attr: string, value: unknown, xmlns?: string, recursive?: boolean): Element[] {
    return this.getChildrenByFilter((child) => typeof child === 'object' && child.attrs[attr] === value && (!xmlns || child.getNS() === xmlns), recursive);
  }

  /** The children (or descendants in document order, with `recursive`) that `filter` accepts, text included. */
  getChildrenByFilter(filter: (child: Node) => boolean, recursive?: boolean): Element[] {
    const found: Element[] = [];
    for (const child of this.children) {
      if (filter(child)) found.push(child as Element);
      if (recursive && typeof child === 'object') found.push(...child.getChildrenByFilter(filter, true));
    }
    return found;
  }

  /** The child elements, without text. */
  getChildElements(): Element[] {
    // any element object, ours or one built by ltx, as ltx does
    return this.children.filter((child): child is Element => typeof child === 'object' && child !== null);
  }

  /** The text children, concatenated. */
  getText(): string {
    let text = '';
    for (const child of this.children as unknown[]) {
      if (typeof child === 'string' || typeof child === 'number') text += child;
    }
    return text;
  }

  /** The text of the first child element named `name`, or `null` without one. */
  getChildText(name: string, xmlns?: string): string | null {
    return this.getChild(name, xmlns)?.getText() ?? null;
  }

  /** The topmost ancestor (the element itself without a parent). */
  root(): Element {
    return this.parent ? this.parent.root() : this;
  }

  /** Same as `root()`. */
  tree(): Element {
    return this.root();
  }

  /** The parent, or the element itself without one (for `c()` chains). */
  up(): Element {
    return this.parent ?? this;
  }

  /** Append a new element and return it. */
  c(name: string, attrs?: Record<string, unknown> | string): Element {
    return this.appendChild(new Element(name, attrs as Attrs));
  }

  /** Append an element or text and return the appended node; an element gets this one as `parent`. */
  appendChild<T extends Node>(child: T): T {
    this.children.push(child);
    if (typeof child === 'object') child.parent = this;
    return child;
  }

  /** Same as `appendChild()` (ltx's name). */
  cnode<T extends Node>(child: T): T {
    return this.appendChild(child);
  }

  /** Append the nodes, in order. */
  append(...nodes: Node[]): void {
    for (const node of nodes) this.appendChild(node);
  }

  /** Insert the nodes at the start, one after the other (so `prepend(a, b)` puts `b` before `a`), as ltx does. */
  prepend(...nodes: Node[]): void {
    for (const node of nodes) {
      this.children.unshift(node);
      if (typeof node === 'object') node.parent = this;
    }
  }

  /** Append text and return this element. */
  t(text: string): this {
    this.children.push(text);
    return this;
  }

  /** Remove the child `el`, or the child elements named `el` (in namespace `xmlns` when given). */
  remove(el: Node): this;
  remove(el: string, xmlns?: string): this;
  remove(el: Node, xmlns?: string): this {
    const match = typeof el === 'string' ? named(el, xmlns) : (child: Node) => child === el;
    this.children = this.children.filter((child) => !match(child));
    return this;
  }

  /** The text of the element; with `value`, replaces the only child (when there is exactly one) with that text. */
  text(): string;
  text(value: string): this;
  text(value?: string): this | string {
    if (value && this.children.length === 1) {
      this.children[0] = value;
      return this;
    }
    return this.getText();
  }

  /** Get an attribute, or set it (`undefined` gets). */
  attr(name: string): string | undefined;
  attr(name: string, value: unknown): this;
  attr(name: string, value?: unknown): this | string | undefined {
    if (value === undefined) return this.attrs[name];
    this.attrs[name] = value as string;
    return this;
  }

  /** The element as XML. `null`/`undefined` attributes and children are skipped. */
  toString(): string {
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
      // Elements (ltx's too) serialise themselves; text, numbers and anything else are escaped.
      if (child != null) out += (child as Element).write ? (child as Element).toString() : escapeXMLText(String(child));
    }
    return `${out}</${this.name}>`;
  }

  /** ltx's serialiser interface: `writer` receives the XML. */
  write(writer: (part: string) => void): void {
    writer(this.toString());
  }
}
