import type { StreamHeader, Transport, TransportEvents, TransportFactory, TransportOptions } from '@xmppkit/connection';
import { ConnectionError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import { XMLError, parse, xml, type Element } from '@xmppkit/xml';

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
const DONE: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;
/** XML whitespace */
const NOT_BLANK = /[^ \t\r\n]/;
let decoder: TextDecoder | undefined;

/**
 * XMPP over WebSocket (RFC 7395): one element per message, `<open/>`/`<close/>` framing,
 * the `xmpp` subprotocol checked, whitespace between frames tolerated, `<close see-other-uri>` honoured,
 * and writes paused while the socket's buffer is full.
 */
export class WebSocketTransport extends EventEmitter<TransportEvents> implements Transport {
  declare readonly secure: boolean;
  declare readonly loopback: boolean;
  declare readonly options: TransportOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #highWaterMark: number;
  #socket: WebSocketLike | null | undefined;
  /** after an XMLError, frames are ignored until the next openStream() (what the streaming parser did) */
  #failed: boolean | undefined;

  constructor(
    WebSocketImpl: WebSocketConstructor,
    options: TransportOptions,
    wsOptions: WebSocketOptions = {},
  ) {
    super();
    this.options = options;
    const { protocol, hostname } = new URL(options.service);
    this.secure = protocol === 'wss:';
    // localhost, *.localhost, 127.0.0.0/8 and ::1 (the URL parser lower-cases and normalises the host)
    this.loopback = /^(\[::1\]|(.*\.)?localhost|127(\.\d+){3})$/.test(hostname);
    this.#WebSocket = WebSocketImpl;
    this.#highWaterMark = wsOptions.highWaterMark ?? 1 << 20;
  }

  connect(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A constructor that throws (a bad URL) rejects this promise.
      const socket = (this.#socket = new this.#WebSocket(this.options.service, ['xmpp']));
      let open = false;
      // Runs once: a failure drops the socket, which detaches every handler, and the abort listener goes.
      const settle = (err?: Error): void => {
        signal.removeEventListener('abort', onAbort);
        if (err) {
          this.destroy(err);
          reject(err);
        } else {
          open = true;
          resolve();
        }
      };
      const onAbort = (): void => settle(signal.reason instanceof Error ? signal.reason : new ConnectionError('aborted'));
      signal.addEventListener('abort', onAbort);
      socket.binaryType = 'arraybuffer';
      socket.onopen = () => settle(socket.protocol === 'xmpp' ? undefined : new ConnectionError('bad-subprotocol', { text: `"${socket.protocol}"` }));
      // ws gives an ErrorEvent (`message`, `error`), browsers a bare Event
      socket.onerror = ({ message, error }) => {
        const err = new ConnectionError(/subprotocol/i.test(message as string) ? 'bad-subprotocol' : 'connection-failed', { text: message || this.options.service, cause: error });
        if (open) this.emit('error', err);
        else settle(err);
      };
      socket.onclose = ({ code, reason, wasClean }) => {
        const clean = wasClean && (code === 1000 || code === 1001 || code === 1005);
        const err = new ConnectionError(open ? 'connection-lost' : 'connection-failed', { text: `code ${code} ${reason}`.trim() });
        if (!open) return settle(err);
        this.#detach(socket);
        this.emit('close', clean, clean ? undefined : err);
      };
      socket.onmessage = (ev) => this.#onMessage(ev.data);
    });
  }

  #onMessage(data: unknown): void {
    // binaryType is arraybuffer: data is a string or an ArrayBuffer
    const text = typeof data === 'string' ? data : (decoder ??= new TextDecoder()).decode(data as ArrayBuffer);
    const max = this.options.maxStanzaSize;
    // A frame is a whole element (RFC 7395 section 3.3.3): refuse it whole when it is too big rather than parse it.
    if (text.length > max) return void this.emit('error', new XMLError('policy-violation', `stanza larger than ${max} characters`));
    this.emit('input', text);
    if (this.#failed) return;
    let el: Element;
    try {
      el = parse(text);
    } catch (err) {
      // Whitespace-only frames (keepalives) fail to parse and are dropped. After malformed XML the stream
      // is over; another error (say, no DOMParser in a worker) is reported as it is.
      if (NOT_BLANK.test(text)) {
        if (err instanceof XMLError) this.#failed = true;
        this.emit('error', err as Error);
      }
      return;
    }
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

  #detach(socket: WebSocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = null;
    // Keep swallowing errors: `ws` emits one when a socket still connecting is dropped, and an
    // EventEmitter error with no listener would crash the host process.
    socket.onerror = ignore;
    this.#socket = null;
  }

  openStream(header: StreamHeader): Promise<void> {
    this.#failed = false;
    return this.#write(xml('open', { xmlns: NS_FRAMING, ...header }));
  }

  closeStream(): Promise<void> {
    return this.#write(xml('close', NS_FRAMING));
  }

  send(element: Element): Promise<void> {
    return this.#write(element);
  }

  async sendMany(elements: readonly Element[]): Promise<void> {
    for (const element of elements) await this.#write(element);
  }

  write(data: string): Promise<void> {
    return this.#write(data);
  }

  /** Not async on purpose: a write that needs no waiting returns a settled promise, with no extra turn. */
  #write(data: string | Element): Promise<void> {
    const socket = this.#socket;
    if (socket?.readyState !== OPEN) return Promise.reject(new ConnectionError('not-connected'));
    try {
      if (typeof data !== 'string') {
        // RFC 7395 section 3.3: with no stream root to inherit from, stanzas carry `jabber:client` themselves.
        if (data.attrs.xmlns === undefined && STANZAS.has(data.name)) data.attrs.xmlns = 'jabber:client';
        data = data.toString();
      }
      socket.send(data);
      this.emit('output', data);
    } catch (err) {
      return Promise.reject(err);
    }
    return socket.bufferedAmount > this.#highWaterMark ? this.#drain(socket) : DONE;
  }

  /** Wait until the socket's buffer falls below half the high-water mark (browsers have no drain event). */
  async #drain(socket: WebSocketLike): Promise<void> {
    while (socket.readyState === OPEN && socket.bufferedAmount > this.#highWaterMark / 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  end(): void {
    this.#socket?.close(1000);
  }

  destroy(reason?: Error): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#detach(socket);
    // neither throws, whatever the socket's state
    if (socket.terminate) socket.terminate();
    else socket.close();
    // Report at once: a dead link must not wait for a close handshake that will never come.
    queueMicrotask(() => this.emit('close', false, reason ?? new ConnectionError('connection-lost')));
  }
}

/** A TransportFactory for `ws:` and `wss:` services, on the given WebSocket implementation. */
export function websocketFactory(WebSocketImpl: WebSocketConstructor, wsOptions?: WebSocketOptions): TransportFactory {
  return {
    name: 'websocket',
    accepts: (service) => /^wss?:\/\//i.test(service),
    create: (options) => new WebSocketTransport(WebSocketImpl, options, wsOptions),
  };
}
