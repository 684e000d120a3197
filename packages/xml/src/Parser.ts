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

// Sticky patterns, run at a position of the buffer (lastIndex is always set right before use).
const NAME = /[A-Za-z_:\u00C0-\uFFFF][^\s/>"'=<&]*/y;
/** whitespace, name="value" or name='value' (no `<` in values) */
const ATTR = /[ \t\r\n]+([A-Za-z_:\u00C0-\uFFFF][^\s/>"'=<&]*)[ \t\r\n]*=[ \t\r\n]*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /[ \t\r\n]*(\/?)>/y;
/** characters XML never allows (those made by character references are checked by unescapeXML) */
const INVALID_CHAR = /[^\t\n\r -\uFFFD]/;
const WHITESPACE = /^[ \t\r\n]*$/;
const CDATA = '<![CDATA[';

const bad = (message: string): XMLError => new XMLError('bad-format', message);

/**
 * Scans a start tag from `i` (outside quoted values) for its '>': returns its index, or `~i` when it is
 * not all here, `i` being where to resume. A stray '<' is an error.
 */
function tagEnd(buf: string, i: number): number {
  for (; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c === 62) return i;
    if (c === 60) throw bad('malformed attributes');
    if (c === 34 || c === 39) {
      const close = buf.indexOf(buf[i] as string, i + 1);
      if (close < 0) break;
      i = close;
    }
  }
  return ~i;
}

/**
 * An incremental XML parser for XMPP streams. Feed it strings or bytes in chunks of any size
 * (a multi-byte UTF-8 character split between chunks is decoded correctly).
 * Comments, processing instructions (other than the XML declaration), DTDs and
 * unknown entities are refused, as RFC 6120 section 11 requires.
 */
export class Parser extends EventEmitter<ParserEvents> {
  declare readonly maxStanzaSize: number;
  declare readonly maxDepth: number;
  declare readonly mode: 'stream' | 'fragments';

  /** the input not parsed yet; null after an error */
  #buf!: string | null;
  /** where the current stanza started, relative to #buf (valid while #stack is deeper than #top) */
  #start!: number;
  /** the open elements, the stream root first in stream mode */
  #stack!: Element[];
  /** #stack's length between stanzas: 1 in stream mode (the root), 0 in fragments mode */
  readonly #top: number;
  #root!: boolean;
  /** when #buf starts with an unfinished start tag, where to resume scanning it for its '>' (else 0) */
  #tag!: number;
  #decoder!: TextDecoder | null;

  constructor(options: ParserOptions = {}) {
    super();
    this.maxStanzaSize = options.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE;
    this.maxDepth = options.maxDepth ?? 64;
    this.mode = options.mode ?? 'stream';
    this.#top = this.mode === 'stream' ? 1 : 0;
    this.reset();
  }

  /** Feed a chunk. Errors are emitted as `error` (never thrown); after an error the parser ignores input. */
  write(chunk: string | Uint8Array): void {
    if (this.#buf === null) return;
    try {
      const text = typeof chunk === 'string' ? chunk : (this.#decoder ??= new TextDecoder('utf-8', { fatal: true })).decode(chunk, { stream: true });
      if (INVALID_CHAR.test(text)) throw bad('invalid character');
      const buf = this.#buf + text;
      const len = buf.length;
      const stack = this.#stack;
      let pos = 0;
      // A start tag left unfinished by the last write (at buf[0]) is parsed again only once its '>' is
      // here, and the scan for that '>' resumes where it stopped: an endless tag is not parsed per write.
      const scan = this.#tag && tagEnd(buf, this.#tag);
      this.#tag = scan < 0 ? ~scan : 0;
      while (pos < len && scan >= 0) {
        let end = buf.indexOf('<', pos);
        if (end !== pos) {
          // Text is taken once the next '<' is here, so an entity is never split; whitespace between
          // stanzas (keepalives) is dropped at once.
          if (end < 0) {
            if (stack.length > this.#top) break;
            end = len;
          }
          this.#text(buf.slice(pos, end), false);
        } else if (pos + 1 === len) break;
        else if (buf[pos + 1] === '/') {
          end = buf.indexOf('>', pos + 2);
          if (end < 0) break;
          this.#close(buf.slice(pos + 2, end).trimEnd(), ++end);
        } else if (buf[pos + 1] === '!') {
          const head = buf.slice(pos, pos + 9);
          if (head !== CDATA) {
            if (CDATA.startsWith(head)) break;
            throw new XMLError('restricted-xml', 'comments and DTDs are not allowed');
          }
          end = buf.indexOf(']]>', pos + 9);
          if (end < 0) break;
          this.#text(buf.slice(pos + 9, end), true);
          end += 3;
        } else if (buf[pos + 1] === '?') {
          end = buf.indexOf('?>', pos + 2);
          if (end < 0) break;
          // Only the XML declaration, and only before the root (or between fragments).
          if (stack.length > 0 || this.#root || !/^xml(\s|$)/.test(buf.slice(pos + 2, end))) throw new XMLError('restricted-xml', 'processing instructions are not allowed');
          end += 2;
        } else {
          NAME.lastIndex = pos + 1;
          if (!NAME.test(buf)) throw bad('invalid element name');
          const element = new Element(buf.slice(pos + 1, (end = NAME.lastIndex)));
          const attrs: Attrs = (element.attrs = {});
          let m: RegExpExecArray | null;
          for (ATTR.lastIndex = end; (m = ATTR.exec(buf)); ) {
            end = ATTR.lastIndex;
            const key = m[1] as string;
            if (Object.hasOwn(attrs, key)) throw bad(`duplicate attribute ${key.slice(0, 40)}`);
            attrs[key] = unescapeXML(m[2] ?? (m[3] as string));
          }
          TAG_END.lastIndex = end;
          m = TAG_END.exec(buf);
          if (!m) {
            // Not well-formed, or not all here yet.
            const scan = tagEnd(buf, end);
            if (scan >= 0) throw bad('malformed attributes');
            this.#tag = ~scan - pos;
            break;
          }
          end = TAG_END.lastIndex;
          const depth = stack.length - this.#top; // -1: the stream root, 0: a stanza
          if (depth < 0) {
            if (this.#root) throw bad('a second root element');
            this.#root = true;
          } else if (depth === 0) this.#start = pos;
          else if (depth >= this.maxDepth) throw new XMLError('policy-violation', `elements nested deeper than ${this.maxDepth}`);
          else (stack[stack.length - 1] as Element).appendChild(element);
          stack.push(element);
          if (depth < 0) this.emit('start', element);
          if (m[1]) this.#close(element.name, end);
        }
        pos = end;
      }
      // What is buffered counts too: a stanza (or a start tag) that never ends fails once it is too big.
      this.#limit(len - (stack.length > this.#top ? this.#start : pos));
      this.#start -= pos;
      this.#buf = buf.slice(pos);
    } catch (err) {
      this.#buf = null;
      this.emit('error', err instanceof XMLError ? err : bad(String((err as Error | null)?.message ?? err)));
    }
  }

  /** Write a last chunk, if any (the parser keeps no state that needs flushing). */
  end(chunk?: string | Uint8Array): void {
    if (chunk) this.write(chunk);
  }

  /** Forget everything (used on stream restart). */
  reset(): void {
    this.#buf = '';
    this.#start = 0;
    this.#stack = [];
    this.#root = false;
    this.#tag = 0;
    this.#decoder = null;
  }

  #limit(size: number): void {
    if (size > this.maxStanzaSize) throw new XMLError('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`);
  }

  /** Text or CDATA (`raw`): appended to the open element; between stanzas only whitespace is allowed. */
  #text(text: string, raw: boolean): void {
    const stack = this.#stack;
    if (stack.length > this.#top) {
      if (!raw) text = unescapeXML(text);
      const children = (stack[stack.length - 1] as Element).children;
      const last = children.length - 1;
      if (last >= 0 && typeof children[last] === 'string') children[last] += text;
      else children.push(text);
    } else if (raw || !WHITESPACE.test(text)) throw bad('text outside of an element');
  }

  #close(name: string, end: number): void {
    const element = this.#stack.pop();
    if (element?.name !== name) throw bad(`unexpected closing tag </${name.slice(0, 40)}>`);
    const depth = this.#stack.length - this.#top;
    if (depth < 0) this.emit('end', element);
    else if (depth === 0) {
      this.#limit(end - this.#start);
      this.emit('element', element);
    }
  }
}
