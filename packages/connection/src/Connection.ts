import { ConnectionError, StreamError, TimeoutError, XMPPError, toError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import type { JID } from '@xmppkit/jid';
import { DEFAULT_MAX_STANZA_SIZE, Element, XMLError, xml } from '@xmppkit/xml';
import { canTransition, type Status } from './status.js';
import type { StreamHeader, Transport, TransportEvents, TransportFactory } from './transport.js';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';

export interface CloseInfo {
  /** true when both ends closed the stream properly */
  clean: boolean;
}

export interface DisconnectInfo {
  /** true when the socket was closed on purpose, after the stream was closed */
  clean: boolean;
  /** why the link went away, when it was not on purpose */
  reason?: Error;
}

/** Events of a connection (and of the client built on it). */
export interface ConnectionEvents {
  /** every status change, before the event of the status' own name */
  status: [status: Status];
  offline: [];
  connecting: [service: string];
  connect: [];
  opening: [];
  open: [header: Element];
  online: [jid: JID];
  closing: [];
  close: [info: CloseInfo];
  disconnecting: [];
  disconnect: [info: DisconnectInfo];
  /** every top-level element received */
  element: [element: Element];
  /** received iq, message and presence */
  stanza: [stanza: Element];
  /** received top-level elements that are not stanzas */
  nonza: [element: Element];
  /** every element after it was written */
  send: [element: Element];
  /** errors that do not belong to a pending call; emitting it never throws, even with no listener */
  error: [error: Error];
  /** raw data, for debugging */
  input: [data: string];
  output: [data: string];
}

export interface ConnectionOptions {
  /** the XMPP domain; the stream header's `to` */
  domain?: string;
  /** language of the stream (`xml:lang`) */
  lang?: string;
  /** deadline in ms for connecting, opening and closing (default 10 000) */
  timeout?: number;
  /** largest stanza accepted from the server (default 1 MiB) */
  maxStanzaSize?: number;
  /** transports to choose from, first match wins */
  transports?: TransportFactory[];
}

/** Writes an element or takes it over; resolves true when it was written now. */
export type WriteElement = (element: Element, original: Element) => Promise<boolean>;

/** Runs on every outgoing element before it is written; returns the element to write or null to drop it. */
export type OutgoingHook = (element: Element) => Element | null | Promise<Element | null>;

type TransportListeners = { [E in keyof TransportEvents]: (...args: TransportEvents[E]) => void };

const STANZAS = new Set(['iq', 'message', 'presence']);
const noop = (): void => undefined;

/**
 * An XMPP stream over some transport, and its status machine. It knows nothing of
 * authentication or stanzas' meaning: `client-core` and the feature packages build on it.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  status: Status = 'offline';
  /** the bound JID (set by resource binding or resumption), null until then */
  jid: JID | null = null;
  /** the server's last stream header */
  root: Element | null = null;
  /** the service the current or last connection used */
  service: string | null = null;
  /** the live transport, null when disconnected */
  transport: Transport | null = null;
  /** runs before every write; set by the middleware package */
  outgoing: OutgoingHook | null = null;
  /** The last stream error on this connection: received, or sent by us (malformed XML, an unsupported version). */
  lastStreamError: XMPPError | null = null;
  /** Where the server asked us to go instead (see-other-host, WebSocket see-other-uri); consumed by the client. */
  redirect: string | null = null;
  /** Run before our stream close is sent (stream management sends its final `<a/>` here). Errors are ignored. */
  readonly closeHooks: Array<() => Promise<void>> = [];
  /** the transport factories, first match wins */
  declare readonly transports: TransportFactory[];
  declare readonly options: { domain: string; lang: string | undefined; timeout: number; maxStanzaSize: number };

  /** aborts when the current connection goes away */
  #session: AbortController | undefined;
  /** the listeners on the live transport */
  #listeners: TransportListeners | undefined;

  constructor(options: ConnectionOptions = {}) {
    super();
    this.transports = options.transports ?? [];
    this.options = {
      domain: options.domain ?? '',
      lang: options.lang,
      timeout: options.timeout ?? 10_000,
      maxStanzaSize: options.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE,
    };
  }

  /** An AbortSignal that aborts when the current connection goes away. */
  get signal(): AbortSignal {
    return this.#session?.signal ?? AbortSignal.abort(new ConnectionError('not-connected'));
  }

  /** Change status; throws on a transition the table does not allow (a bug, not a runtime condition). */
  protected setStatus<S extends Status>(status: S, ...args: ConnectionEvents[S]): void {
    this.setStatusQuietly(status);
    (this.emit as (event: S, ...a: ConnectionEvents[S]) => boolean)(status, ...args);
  }

  /** Change status emitting only `status`, not the event of its name (a resumed session is `online` again without a new `online`). */
  protected setStatusQuietly(status: Status): void {
    if (!canTransition(this.status, status)) throw new Error(`invalid status transition ${this.status} -> ${status}`);
    this.emit('status', (this.status = status));
  }

  /** The status read afresh: after an await it may differ from what an earlier check narrowed it to. */
  protected statusNow(): Status {
    return this.status;
  }

  /** Emit `error` without ever throwing, even when nobody listens. */
  emitError(error: Error): void {
    if (this.listenerCount('error')) this.emit('error', error);
  }

  /** Open the transport to `service`. */
  async connect(service: string): Promise<void> {
    if (!canTransition(this.status, 'connecting')) throw new ConnectionError('invalid-state', { text: this.status });
    const factory = this.transports.find((t) => t.accepts(service));
    if (!factory) throw new ConnectionError('no-transport', { text: service });
    const session = (this.#session = new AbortController());
    this.service = service;
    this.lastStreamError = null;
    this.setStatus('connecting', service);
    const transport = (this.transport = factory.create({ service, maxStanzaSize: this.options.maxStanzaSize }));
    // The status changes happen in these listeners, at once: what the server sends next finds them done.
    const listeners: TransportListeners = (this.#listeners = {
      element: (el) => this.onElement(el),
      close: (clean, reason) => this.onTransportClose(transport, clean, reason),
      error: (error) => this.onTransportError(error),
      input: (data) => this.emit('input', data),
      output: (data) => this.emit('output', data),
      redirect: (target) => (this.redirect = target),
      header: (root) => {
        if (this.status !== 'opening') return;
        if (root.attrs.version === '1.0') {
          // A throwing status listener is the application's bug, not bad XML: report it, keep the stream.
          try {
            this.setStatus('open', (this.root = root));
          } catch (err) {
            this.emitError(toError(err));
          }
        } else {
          // open() rejects with it once disconnected
          this.lastStreamError = new StreamError('unsupported-version', { text: `version ${root.attrs.version}` });
          void this.streamError('unsupported-version');
        }
      },
      streamEnd: () => {
        const closing = this.status === 'closing';
        if (canTransition(this.status, 'close')) {
          this.setStatus('close', { clean: true });
          if (closing) return; // close() waits for this
          // The server closed its stream first: close ours too, then the socket.
          transport.closeStream().catch(noop);
        }
        void this.disconnect();
      },
    });
    for (const event in listeners) transport.on(event as 'close', listeners[event as 'close']);
    try {
      await this.#until(
        'connect',
        transport.connect(session.signal).then(() => {
          if (this.status === 'connecting') this.setStatus('connect');
        }),
      );
    } catch (error) {
      transport.destroy(error as Error);
      this.onTransportClose(transport, false, error as Error);
      throw error;
    }
  }

  /** The header we send; `client-core` adds `from`. */
  protected headerAttrs(): StreamHeader {
    return { to: this.options.domain, version: '1.0', 'xml:lang': this.options.lang || undefined };
  }

  /** Send our stream header and wait for the server's. */
  async open(): Promise<Element> {
    const transport = this.requireTransport();
    this.setStatus('opening');
    try {
      await Promise.all([this.#until('open'), transport.openStream(this.headerAttrs())]);
    } catch (error) {
      throw this.lastStreamError ?? error;
    }
    return this.root as Element;
  }

  /** Restart the stream (after authentication). */
  async restart(): Promise<Element> {
    return this.open();
  }

  /** Close our end of the stream and wait for the server to close its end. */
  async close(): Promise<CloseInfo> {
    const transport = this.transport;
    // a stream can be closed from connect, opening, open and online
    if (!transport || !canTransition(this.status, 'closing')) return { clean: false };
    this.setStatus('closing');
    const closed = this.#until('close');
    closed.catch(noop); // awaited below; this only keeps an early rejection from being reported as unhandled
    try {
      for (const hook of this.closeHooks) await hook().catch(noop);
      await transport.closeStream();
      await closed;
      return { clean: true };
    } catch {
      const info = { clean: false };
      if (this.status === 'closing') this.setStatus('close', info);
      return info;
    }
  }

  /** Close the socket; if it does not close in time, drop it. */
  async disconnect(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    if (this.status !== 'disconnecting') this.setStatus('disconnecting');
    const closed = this.#until('disconnect').catch((error: Error) => error);
    transport.end();
    const timedOut = await closed;
    if (this.transport === transport) {
      transport.destroy();
      this.onTransportClose(transport, false, timedOut as Error);
    }
  }

  /** Close the stream, close the socket, and go offline. */
  async stop(): Promise<void> {
    // close() and disconnect() do nothing when there is no stream or no socket
    await this.close();
    await this.disconnect();
    if (this.status === 'disconnect') this.setStatus('offline');
  }

  /** Send our stream error (for example `bad-format`), close the stream and the socket. */
  async streamError(condition: string, text?: string): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    try {
      await transport.send(xml('stream:error', { 'xmlns:stream': NS_STREAMS }, xml(condition, NS_STREAM_ERRORS), text && xml('text', NS_STREAM_ERRORS, text)));
      await transport.closeStream();
    } catch {
      // the link may already be gone; the disconnect below still happens
    }
    await this.disconnect();
  }

  /**
   * Writes one element to the transport and returns true, or takes it over and returns false
   * (stream management counts and tracks stanzas here, and holds them while the link is down).
   * `original` is the element before outgoing filters ran.
   */
  writeElement: WriteElement = async (element) => {
    await this.requireTransport().send(element);
    return true;
  };

  /** Send an element, after the outgoing hook (which may change or drop it). Rejects when it cannot be sent. */
  async send(element: Element): Promise<void> {
    const out = this.outgoing ? await this.outgoing(element) : element;
    if (out && (await this.writeElement(out, element))) this.emit('send', out);
  }

  /** Send several elements in order. */
  async sendMany(elements: readonly Element[]): Promise<void> {
    for (const element of elements) await this.send(element);
  }

  /** Report an element written outside `send()` (for example re-sent after a resumption). */
  emitSent(element: Element): void {
    this.emit('send', element);
  }

  /** Write raw text (no hook, no checks). */
  async write(data: string): Promise<void> {
    await this.requireTransport().write(data);
  }

  /** True when an element can be written now. */
  get writable(): boolean {
    return this.transport !== null && this.status !== 'disconnecting' && this.status !== 'connecting';
  }

  protected requireTransport(): Transport {
    const transport = this.transport;
    if (!transport || this.status === 'connecting') throw new ConnectionError('not-connected');
    return transport;
  }

  /**
   * Resolves when the status becomes `target`; rejects when it becomes `disconnect` first (with the reason),
   * after the timeout (TimeoutError), or when `promise` rejects.
   */
  #until(target: Status, promise?: Promise<unknown>): Promise<void> {
    const ms = this.options.timeout;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown): void => {
        clearTimeout(timer);
        this.off('status', onStatus);
        if (error) reject(error);
        else resolve();
      };
      const onStatus = (status: Status): void => {
        if (status === target) done();
        else if (status === 'disconnect') done(this.signal.reason);
      };
      // made now, while the status is the one that lasts too long
      const timer = setTimeout(done, ms, new TimeoutError(`still ${this.status} after ${ms} ms`));
      // first in line: an application listener that throws cannot keep it from seeing the status
      this.prependListener('status', onStatus);
      promise?.catch(done);
    });
  }

  protected onTransportClose(transport: Transport, clean: boolean, reason?: Error): void {
    if (this.transport !== transport) return;
    const listeners = this.#listeners as TransportListeners;
    for (const event in listeners) transport.off(event as 'close', listeners[event as 'close']);
    this.transport = null;
    (this.#session as AbortController).abort(reason ?? new ConnectionError('disconnected'));
    // clean: closed on purpose, after the stream
    this.setStatus('disconnect', { clean: clean && (this.status === 'disconnecting' || this.status === 'close'), reason });
  }

  protected onTransportError(error: Error): void {
    if (error instanceof XMLError) {
      // The peer sent XML we refuse: tell it why, then hang up (RFC 6120 section 4.9).
      this.emitError((this.lastStreamError = new StreamError(error.condition, { text: error.message, cause: error })));
      void this.streamError(error.condition);
    } else this.emitError(error);
  }

  protected onElement(element: Element): void {
    // A throwing listener is the application's bug, not bad XML: report it and keep the stream.
    this.#emitSafely('element', element);
    this.#emitSafely(STANZAS.has(element.name) ? 'stanza' : 'nonza', element);
    if (element.name === 'stream:error' || (element.name === 'error' && element.attrs.xmlns === NS_STREAMS)) this.onStreamError(element);
  }

  #emitSafely(event: 'element' | 'stanza' | 'nonza', element: Element): void {
    try {
      this.emit(event, element);
    } catch (err) {
      this.emitError(toError(err));
    }
  }

  /** A `<stream:error/>` from the server: report it and hang up (following see-other-host when asked). */
  protected onStreamError(element: Element): void {
    const error = (this.lastStreamError = StreamError.fromElement(element));
    const target = element.getChildText('see-other-host', NS_STREAM_ERRORS)?.trim();
    const service = target && seeOtherHost(this.service as string, target);
    if (service) this.redirect = service;
    this.emitError(error);
    void this.disconnect();
  }
}

/** The service URL with its host (and port, when given) replaced by a see-other-host target. */
export function seeOtherHost(service: string, target: string): string | null {
  try {
    const url = new URL(service);
    const probe = new URL(`${url.protocol}//${target}`);
    url.hostname = probe.hostname;
    url.port = probe.port;
    return `${url}`;
  } catch {
    return null;
  }
}
