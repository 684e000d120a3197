import { EventEmitter } from '@xmppkit/events';
import { Element, type Attrs } from './Element.js';
import { unescapeXML } from './escape.js';
import { XMLError } from './XMLError.js';

export interface ParserOptions {
  /**
   * Largest stanza accepted, in characters of decoded text (one per byte for ASCII).
   * Past it the parser stops with a `policy-violation` XMLError instead of buffering without bound.
   * Default 1 MiB.
   */
  maxStanzaSize?: number;
  /** Deepest element nesting accepted inside a stanza (default 64). */
  maxDepth?: number;
  /**
   * `stream` (TCP-style): one root element (`<stream:stream>`) wraps the stanzas; `start` fires for
   * the root, `element` for each child, `end` for the closing tag.
   * `fragments` (WebSocket-style): every top-level element is emitted as `element`.
   */
  mode?: 'stream' | 'fragments';
}

export interface ParserEvents {
  start: [root: Element];
  element: [element: Element];
  end: [root: Element | null];
  error: [error: XMLError];
}

export const DEFAULT_MAX_STANZA_SIZE = 1024 * 1024;

const NAME = /^[A-Za-z_:\u00C0-\uFFFF][^\s/>"'=<&]*$/;
const INVALID_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const WHITESPACE = /^[ \t\r\n]*$/;

/**
 * An incremental XML parser for XMPP streams. Feed it strings or bytes in chunks of any size
 * (a multi-byte UTF-8 character split between chunks is decoded correctly).
 * Comments, processing instructions (other than the XML declaration), DTDs and
 * unknown entities are refused, as RFC 6120 section 11 requires.
 */
export class Parser extends EventEmitter<ParserEvents> {
  readonly maxStanzaSize: number;
  readonly maxDepth: number;
  readonly mode: 'stream' | 'fragments';

  private buffer = '';
  private pos = 0;
  /** absolute offset of buffer[0] in the decoded input */
  private base = 0;
  /** absolute offset where the current stanza started, or -1 between stanzas */
  private stanzaStart = -1;
  private root: Element | null = null;
  private cursor: Element | null = null;
  private depth = 0;
  private readonly stanzaDepth: number;
  private decoder: TextDecoder | null = null;
  private failed = false;
  private sawRoot = false;

  constructor(options: ParserOptions = {}) {
    super();
    this.maxStanzaSize = options.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE;
    this.maxDepth = options.maxDepth ?? 64;
    this.mode = options.mode ?? 'stream';
    this.stanzaDepth = this.mode === 'stream' ? 1 : 0;
  }

  /** Feed a chunk. Errors are emitted as `error` (never thrown); after an error the parser ignores input. */
  write(chunk: string | Uint8Array): void {
    if (this.failed) return;
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      this.decoder ??= new TextDecoder('utf-8', { fatal: true });
      try {
        text = this.decoder.decode(chunk, { stream: true });
      } catch {
        this.fail(new XMLError('bad-format', 'invalid UTF-8'));
        return;
      }
    }
    if (this.pos === this.buffer.length) {
      this.base += this.pos;
      this.buffer = text;
      this.pos = 0;
    } else {
      this.buffer += text;
    }
    try {
      this.parse();
    } catch (err) {
      if (err instanceof XMLError) this.fail(err);
      else this.fail(new XMLError('bad-format', err instanceof Error ? err.message : String(err)));
      return;
    }
    // Keep only the unparsed tail.
    if (this.pos > 0) {
      this.base += this.pos;
      this.buffer = this.buffer.slice(this.pos);
      this.pos = 0;
    }
    const from = this.stanzaStart === -1 ? this.base : this.stanzaStart;
    if (this.base + this.buffer.length - from > this.maxStanzaSize) {
      this.fail(new XMLError('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`));
    }
  }

  /** Write a last chunk, if any (the parser keeps no state that needs flushing). */
  end(chunk?: string | Uint8Array): void {
    if (chunk !== undefined) this.write(chunk);
  }

  /** Forget everything (used on stream restart). */
  reset(): void {
    this.buffer = '';
    this.pos = 0;
    this.base = 0;
    this.stanzaStart = -1;
    this.root = null;
    this.cursor = null;
    this.depth = 0;
    this.decoder = null;
    this.failed = false;
    this.sawRoot = false;
  }

  private fail(error: XMLError): void {
    this.failed = true;
    this.buffer = '';
    this.pos = 0;
    this.emit('error', error);
  }

  private parse(): void {
    const buf = this.buffer;
    const len = buf.length;
    let pos = this.pos;
    while (pos < len && !this.failed) {
      const lt = buf.indexOf('<', pos);
      if (lt === -1) {
        // Text with no markup after it: keep it buffered until the next '<' so entities are never split.
        if (this.cursor === null) {
          if (!WHITESPACE.test(buf.slice(pos))) throw new XMLError('bad-format', 'text outside of an element');
          pos = len; // whitespace keepalives between stanzas are dropped, never buffered
        }
        break;
      }
      if (lt > pos) this.onText(buf.slice(pos, lt));
      pos = lt;
      if (pos + 1 >= len) break;
      const next = buf.charCodeAt(pos + 1);
      if (next === 47 /* / */) {
        const gt = buf.indexOf('>', pos + 2);
        if (gt === -1) break;
        this.onClose(buf.slice(pos + 2, gt).trimEnd(), gt + 1);
        pos = gt + 1;
      } else if (next === 33 /* ! */) {
        if (buf.startsWith('<![CDATA[', pos)) {
          const endCdata = buf.indexOf(']]>', pos + 9);
          if (endCdata === -1) break;
          if (this.cursor === null) throw new XMLError('bad-format', 'CDATA outside of an element');
          this.appendText(buf.slice(pos + 9, endCdata));
          pos = endCdata + 3;
        } else if (len - pos < 9 && '<![CDATA['.startsWith(buf.slice(pos))) {
          break;
        } else {
          throw new XMLError('restricted-xml', buf.startsWith('<!--', pos) ? 'XML comments are not allowed' : 'DTDs are not allowed');
        }
      } else if (next === 63 /* ? */) {
        const endPi = buf.indexOf('?>', pos + 2);
        if (endPi === -1) break;
        const target = buf.slice(pos + 2, endPi).split(/\s/, 1)[0];
        if (target !== 'xml' || this.depth !== 0 || this.sawRoot) throw new XMLError('restricted-xml', 'processing instructions are not allowed');
        pos = endPi + 2;
      } else {
        const gt = findTagEnd(buf, pos + 1);
        if (gt === -1) break;
        const selfClosing = buf.charCodeAt(gt - 1) === 47;
        this.onOpen(buf.slice(pos + 1, selfClosing ? gt - 1 : gt), selfClosing, pos, gt + 1);
        pos = gt + 1;
      }
    }
    this.pos = pos;
  }

  private onText(raw: string): void {
    if (this.cursor === null) {
      // Between stanzas only whitespace is allowed (keepalives).
      if (!WHITESPACE.test(raw)) throw new XMLError('bad-format', 'text outside of an element');
      return;
    }
    this.appendText(unescapeXML(raw));
  }

  private appendText(text: string): void {
    if (INVALID_CHAR.test(text)) throw new XMLError('bad-format', 'invalid character in text');
    const cursor = this.cursor as Element;
    const children = cursor.children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === 'string') children[last] += text;
    else children.push(text);
  }

  private onOpen(tag: string, selfClosing: boolean, at: number, end: number): void {
    let nameEnd = 0;
    while (nameEnd < tag.length && !isSpace(tag.charCodeAt(nameEnd))) nameEnd++;
    const name = tag.slice(0, nameEnd);
    if (!NAME.test(name)) throw new XMLError('bad-format', `invalid element name "${name.slice(0, 40)}"`);
    const attrs: Attrs = {};
    if (nameEnd < tag.length) parseAttributes(tag, nameEnd, attrs);
    const element = new Element(name);
    element.attrs = attrs;

    if (this.mode === 'stream' && this.depth === 0) {
      if (this.sawRoot) throw new XMLError('bad-format', 'a second root element');
      this.sawRoot = true;
      this.root = element;
      if (selfClosing) {
        this.emit('start', element);
        this.emit('end', element);
        return;
      }
      this.depth = 1;
      this.emit('start', element);
      return;
    }

    if (this.depth === this.stanzaDepth) {
      this.stanzaStart = this.base + at;
    } else {
      if (this.depth - this.stanzaDepth >= this.maxDepth) throw new XMLError('policy-violation', `elements nested deeper than ${this.maxDepth}`);
      (this.cursor as Element).appendChild(element);
    }
    if (selfClosing) {
      if (this.depth === this.stanzaDepth) this.emitStanza(element, end);
      return;
    }
    this.cursor = element;
    this.depth++;
  }

  private onClose(name: string, end: number): void {
    if (this.mode === 'stream' && this.depth === 1) {
      if (this.root === null || name !== this.root.name) throw new XMLError('bad-format', `unexpected closing tag </${name.slice(0, 40)}>`);
      this.depth = 0;
      this.emit('end', this.root);
      return;
    }
    const cursor = this.cursor;
    if (cursor === null || cursor.name !== name) throw new XMLError('bad-format', `unexpected closing tag </${name.slice(0, 40)}>`);
    this.depth--;
    this.cursor = cursor.parent;
    if (this.depth === this.stanzaDepth) {
      this.cursor = null;
      cursor.parent = null;
      this.emitStanza(cursor, end);
    }
  }

  private emitStanza(element: Element, end: number): void {
    if (this.base + end - this.stanzaStart > this.maxStanzaSize) {
      throw new XMLError('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`);
    }
    this.stanzaStart = -1;
    this.emit('element', element);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Index of the `>` closing a start tag that begins at `from`, skipping quoted attribute values. */
function findTagEnd(buf: string, from: number): number {
  let quote = 0;
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
    else if (c === 60) throw new XMLError('bad-format', 'unexpected "<" inside a tag');
  }
  return -1;
}

/** Attributes of a start tag, from `from` to the end of `tag`: one scan by character codes, no regex per attribute. */
function parseAttributes(tag: string, from: number, attrs: Attrs): void {
  const n = tag.length;
  let i = from;
  for (;;) {
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    if (i >= n) return;
    const keyStart = i;
    while (i < n) {
      const c = tag.charCodeAt(i);
      if (c === 61 /* = */ || c === 34 || c === 39 || c === 47 || c === 62 || isSpace(c)) break;
      i++;
    }
    const key = tag.slice(keyStart, i);
    if (!NAME.test(key)) throw new XMLError('bad-format', 'malformed attributes');
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    if (tag.charCodeAt(i) !== 61) throw new XMLError('bad-format', 'malformed attributes');
    i++;
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    const quote = tag.charCodeAt(i);
    if (quote !== 34 && quote !== 39) throw new XMLError('bad-format', 'malformed attributes');
    const end = tag.indexOf(quote === 34 ? '"' : "'", i + 1);
    if (end === -1) throw new XMLError('bad-format', 'malformed attributes');
    const raw = tag.slice(i + 1, end);
    if (raw.includes('<')) throw new XMLError('bad-format', 'malformed attributes');
    if (Object.prototype.hasOwnProperty.call(attrs, key)) throw new XMLError('bad-format', `duplicate attribute "${key.slice(0, 40)}"`);
    const value = unescapeXML(raw);
    if (INVALID_CHAR.test(value)) throw new XMLError('bad-format', 'invalid character in an attribute value');
    attrs[key] = value;
    i = end + 1;
  }
}
