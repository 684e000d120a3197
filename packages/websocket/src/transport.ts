import type { StreamHeader, Transport, TransportEvents, TransportFactory, TransportOptions } from '@xmppkit/connection';
import { ConnectionError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import { Parser, XMLError, xml, type Element } from '@xmppkit/xml';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** The parts of the WHATWG WebSocket API this transport uses (met by browsers' WebSocket and by `ws`). */
export interface WebSocketLike {
  readonly protocol: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: { message?: string; error?: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: its EventEmitter API, used for messages (no MessageEvent object per frame) */
  on?(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  off?(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  /** `ws` only: drop the socket at once */
  terminate?(): void;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

export interface WebSocketOptions {
  /** pause writes while this many bytes are buffered and unsent (default 1 MiB) */
  highWaterMark?: number;
}

const OPEN = 1;
const STANZAS = new Set(['iq', 'message', 'presence']);

/** RFC 7395 section 3.3: with no stream root to inherit from, stanzas carry `jabber:client` themselves. */
function serialize(element: Element): string {
  if (element.attrs.xmlns === undefined && STANZAS.has(element.name)) element.attrs.xmlns = 'jabber:client';
  return element.toString();
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith('.localhost');
}

/**
 * XMPP over WebSocket (RFC 7395): one element per message, `<open/>`/`<close/>` framing,
 * the `xmpp` subprotocol checked, whitespace between frames tolerated, `<close see-other-uri>` honoured,
 * and writes paused while the socket's buffer is full.
 */
export class WebSocketTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly secure: boolean;
  readonly loopback: boolean;
  private socket: WebSocketLike | null = null;
  private parser: Parser;
  private wsListener: ((data: unknown, isBinary: boolean) => void) | undefined;
  private readonly highWaterMark: number;
  private closedEmitted = false;

  constructor(
    private readonly WebSocketImpl: WebSocketConstructor,
    readonly options: TransportOptions,
    wsOptions: WebSocketOptions = {},
  ) {
    super();
    const url = new URL(options.service);
    this.secure = url.protocol === 'wss:';
    this.loopback = isLoopback(url.hostname);
    this.highWaterMark = wsOptions.highWaterMark ?? 1024 * 1024;
    this.parser = this.makeParser();
  }

  private makeParser(): Parser {
    const parser = new Parser({ mode: 'fragments', maxStanzaSize: this.options.maxStanzaSize });
    parser.on('element', (el) => this.onFrameElement(el));
    parser.on('error', (err) => this.emit('error', err));
    return parser;
  }

  private onFrameElement(el: Element): void {
    if (el.attrs.xmlns === NS_FRAMING) {
      if (el.name === 'open') return void this.emit('header', el);
      if (el.name === 'close') {
        const uri = el.attrs['see-other-uri'];
        if (uri) this.emit('redirect', uri);
        return void this.emit('streamEnd');
      }
    }
    this.emit('element', el);
  }

  connect(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      let socket: WebSocketLike;
      try {
        socket = new this.WebSocketImpl(this.options.service, ['xmpp']);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.socket = socket;
      socket.binaryType = 'arraybuffer';
      const onAbort = (): void => {
        this.destroy();
        fail(signal.reason instanceof Error ? signal.reason : new ConnectionError('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.onopen = () => {
        signal.removeEventListener('abort', onAbort);
        if (socket.protocol !== 'xmpp') {
          this.detach();
          socket.close(1002, 'xmpp subprotocol required');
          fail(new ConnectionError('bad-subprotocol', { text: `server answered with subprotocol "${socket.protocol}" instead of "xmpp"` }));
          return;
        }
        settled = true;
        resolve();
      };
      socket.onerror = (ev) => {
        const cause = ev.error instanceof Error ? ev.error : undefined;
        const message = cause?.message ?? ev.message ?? '';
        const condition = /subprotocol/i.test(message) ? 'bad-subprotocol' : 'connection-failed';
        const err = new ConnectionError(condition, { text: `WebSocket error on ${this.options.service}${cause ? `: ${cause.message}` : ev.message ? `: ${ev.message}` : ''}`, cause });
        if (!settled) {
          signal.removeEventListener('abort', onAbort);
          this.detach();
          fail(err);
        } else this.emit('error', err);
      };
      socket.onclose = (ev) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          this.detach();
          fail(new ConnectionError('connection-failed', { text: `could not connect to ${this.options.service} (code ${ev.code})` }));
          return;
        }
        const clean = ev.wasClean && (ev.code === 1000 || ev.code === 1001 || ev.code === 1005);
        this.emitClose(clean, clean ? undefined : new ConnectionError('connection-lost', { text: `WebSocket closed with code ${ev.code}${ev.reason ? ` (${ev.reason})` : ''}` }));
      };
      if (typeof socket.on === 'function' && typeof socket.off === 'function') {
        // ws: a text frame arrives as a Buffer of UTF-8 with isBinary false.
        this.wsListener = (data, isBinary) => this.onMessage(isBinary ? data : String(data));
        socket.on('message', this.wsListener);
      } else socket.onmessage = (ev) => this.onMessage(ev.data);
    });
  }

  private onMessage(data: unknown): void {
    let text: string;
    if (typeof data === 'string') text = data;
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) text = (decoder ??= new TextDecoder()).decode(data);
    else return;
    // A frame is a whole element; refuse it whole when it is too big rather than parse it.
    if (text.length > this.options.maxStanzaSize) {
      this.emit('error', new XMLError('policy-violation', `stanza larger than ${this.options.maxStanzaSize} characters`));
      return;
    }
    this.emit('input', text);
    this.parser.write(text);
  }

  private emitClose(clean: boolean, reason?: Error): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.detach();
    this.emit('close', clean, reason);
  }

  private detach(): void {
    const socket = this.socket;
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    if (this.wsListener) socket.off?.('message', this.wsListener);
    this.wsListener = undefined;
    // Keep swallowing errors: `ws` emits one when a socket still connecting is dropped, and an
    // EventEmitter error with no listener would crash the host process.
    socket.onerror = ignore;
    socket.onclose = null;
    this.socket = null;
  }

  async openStream(header: StreamHeader): Promise<void> {
    this.parser = this.makeParser();
    await this.write(xml('open', { xmlns: NS_FRAMING, ...header }).toString());
  }

  async closeStream(): Promise<void> {
    await this.write(xml('close', NS_FRAMING).toString());
  }

  send(element: Element): Promise<void> {
    let data: string;
    try {
      data = serialize(element);
    } catch (err) {
      return rejected(err);
    }
    return this.write(data);
  }

  async sendMany(elements: readonly Element[]): Promise<void> {
    for (const element of elements) await this.write(serialize(element));
  }

  /** Not async on purpose: a write that needs no waiting returns a settled promise, with no extra turn. */
  write(data: string): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return Promise.reject(new ConnectionError('not-connected', { text: 'the WebSocket is not open' }));
    try {
      socket.send(data);
      this.emit('output', data);
    } catch (err) {
      return rejected(err);
    }
    return socket.bufferedAmount > this.highWaterMark ? this.drain(socket) : DONE;
  }

  /** Wait until the socket's buffer falls below half the high-water mark (browsers have no drain event). */
  private async drain(socket: WebSocketLike): Promise<void> {
    while (socket.readyState === OPEN && socket.bufferedAmount > this.highWaterMark / 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  end(): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.close(1000);
    } catch {
      this.destroy();
    }
  }

  destroy(reason?: Error): void {
    const socket = this.socket;
    if (!socket) return;
    this.detach();
    try {
      if (socket.terminate) socket.terminate();
      else socket.close();
    } catch {
      // already gone
    }
    // Report at once: a dead link must not wait for a close handshake that will never come.
    queueMicrotask(() => this.emitClose(false, reason ?? new ConnectionError('connection-lost', { text: 'the WebSocket was dropped' })));
  }
}

let decoder: TextDecoder | undefined;
const DONE: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;
const rejected = (err: unknown): Promise<never> => Promise.reject(err instanceof Error ? err : new Error(String(err)));

/** A TransportFactory for `ws:` and `wss:` services, on the given WebSocket implementation. */
export function websocketFactory(WebSocketImpl: WebSocketConstructor, wsOptions: WebSocketOptions = {}): TransportFactory {
  return {
    name: 'websocket',
    accepts: (service) => /^wss?:\/\//i.test(service),
    create: (options) => new WebSocketTransport(WebSocketImpl, options, wsOptions),
  };
}
