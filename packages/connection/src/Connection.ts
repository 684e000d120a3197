import { ConnectionError, StreamError, TimeoutError, XMPPError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import type { JID } from '@xmppkit/jid';
import { DEFAULT_MAX_STANZA_SIZE, Element, XMLError, xml } from '@xmppkit/xml';
import { canTransition, type Status } from './status.js';
import type { StreamHeader, Transport, TransportFactory } from './transport.js';

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

const STANZAS = new Set(['iq', 'message', 'presence']);

function isStreamElement(el: Element, local: string): boolean {
  return el.name === `stream:${local}` || (el.name === local && el.attrs.xmlns === NS_STREAMS);
}

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
  /** the transport factories, first match wins */
  readonly transports: TransportFactory[];
  readonly options: { domain: string; lang: string | undefined; timeout: number; maxStanzaSize: number };
  /** the service the current or last connection used */
  service: string | null = null;
  /** the live transport, null when disconnected */
  transport: Transport | null = null;
  /** runs before every write; set by the middleware package */
  outgoing: OutgoingHook | null = null;

  private session: AbortController | null = null;
  private closed: (() => void) | null = null;
  private closedPromise: Promise<void> = Promise.resolve();
  private detachTransport: (() => void) | null = null;

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
    return this.session?.signal ?? AbortSignal.abort(new ConnectionError('not-connected'));
  }

  /** Change status; throws on a transition the table does not allow (a bug, not a runtime condition). */
  protected setStatus<S extends Status>(status: S, ...args: ConnectionEvents[S]): void {
    if (!canTransition(this.status, status)) throw new Error(`invalid status transition ${this.status} -> ${status}`);
    this.status = status;
    this.emit('status', status);
    (this.emit as (event: S, ...a: ConnectionEvents[S]) => boolean)(status, ...args);
  }

  /** Change status emitting only `status`, not the event of its name (a resumed session is `online` again without a new `online`). */
  protected setStatusQuietly(status: Status): void {
    if (!canTransition(this.status, status)) throw new Error(`invalid status transition ${this.status} -> ${status}`);
    this.status = status;
    this.emit('status', status);
  }

  /** The status read afresh: after an await it may differ from what an earlier check narrowed it to. */
  protected statusNow(): Status {
    return this.status;
  }

  /** Emit `error` without ever throwing, even when nobody listens. */
  emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Open the transport to `service`. */
  async connect(service: string): Promise<void> {
    if (this.status !== 'offline' && this.status !== 'disconnect') throw new ConnectionError('invalid-state', { text: `cannot connect while ${this.status}` });
    const factory = this.transports.find((t) => t.accepts(service));
    if (!factory) throw new ConnectionError('no-transport', { text: `no transport can reach ${service}` });
    const session = new AbortController();
    this.session = session;
    this.service = service;
    this.closedPromise = new Promise<void>((resolve) => (this.closed = resolve));
    this.setStatus('connecting', service);
    const transport = factory.create({ service, maxStanzaSize: this.options.maxStanzaSize });
    this.attach(transport);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        transport.connect(session.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`could not connect to ${service} within ${this.options.timeout} ms`)), this.options.timeout);
        }),
      ]);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      transport.destroy(error);
      this.onTransportClose(transport, false, error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.transport !== transport || this.statusNow() !== 'connecting') throw new ConnectionError('disconnected', { text: 'disconnected while connecting' });
    this.setStatus('connect');
  }

  /** The header we send; `client-core` adds `from`. */
  protected headerAttrs(): StreamHeader {
    const header: StreamHeader = { to: this.options.domain, version: '1.0' };
    if (this.options.lang) header['xml:lang'] = this.options.lang;
    return header;
  }

  /** Send our stream header and wait for the server's. */
  async open(): Promise<Element> {
    const transport = this.requireTransport();
    this.setStatus('opening');
    const header = this.waitFor<Element>(transport, 'header', `no stream header within ${this.options.timeout} ms`);
    header.catch(() => undefined); // awaited below; this only keeps an early rejection from being reported as unhandled
    await transport.openStream(this.headerAttrs());
    const root = await header;
    if (this.transport !== transport || this.status !== 'opening') throw this.lastStreamError ?? new ConnectionError('disconnected', { text: `connection ${this.status} while opening the stream` });
    if (root.attrs.version !== '1.0') {
      await this.streamError('unsupported-version');
      throw new StreamError('unsupported-version', { text: `server offered version ${root.attrs.version ?? '(none)'}` });
    }
    this.root = root;
    this.setStatus('open', root);
    return root;
  }

  /** Restart the stream (after authentication). */
  async restart(): Promise<Element> {
    return this.open();
  }

  /** Close our end of the stream and wait for the server to close its end. */
  async close(): Promise<CloseInfo> {
    const transport = this.transport;
    if (!transport || !['connect', 'opening', 'open', 'online'].includes(this.status)) return { clean: false };
    this.setStatus('closing');
    const ended = this.waitFor<void>(transport, 'streamEnd', `stream not closed within ${this.options.timeout} ms`);
    ended.catch(() => undefined); // awaited below
    let clean = true;
    try {
      for (const hook of this.closeHooks) await hook().catch(() => undefined);
      await transport.closeStream();
      await ended;
    } catch {
      clean = false;
    }
    const info = { clean };
    if (this.status === 'closing') this.setStatus('close', info);
    return info;
  }

  /** Run before our stream close is sent (stream management sends its final `<a/>` here). Errors are ignored. */
  readonly closeHooks: Array<() => Promise<void>> = [];

  /** Close the socket; if it does not close in time, drop it. */
  async disconnect(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    if (this.status !== 'disconnecting') this.setStatus('disconnecting');
    transport.end();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.closedPromise.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.options.timeout);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut && this.transport === transport) {
      transport.destroy();
      this.onTransportClose(transport, false, new TimeoutError('socket did not close in time'));
    }
  }

  /** Close the stream, close the socket, and go offline. */
  async stop(): Promise<void> {
    if (this.status === 'offline') return;
    if (['connect', 'opening', 'open', 'online'].includes(this.status)) await this.close();
    await this.disconnect();
    if (this.status === 'disconnect') this.setStatus('offline');
  }

  /** Send our stream error (for example `bad-format`), close the stream and the socket. */
  async streamError(condition: string, text?: string): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const error = xml('stream:error', { 'xmlns:stream': NS_STREAMS }, xml(condition, NS_STREAM_ERRORS));
    if (text) error.appendChild(xml('text', NS_STREAM_ERRORS, text));
    try {
      await transport.send(error);
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
    let out: Element | null = element;
    if (this.outgoing) {
      out = await this.outgoing(element);
      if (out === null) return;
    }
    if (await this.writeElement(out, element)) this.emit('send', out);
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
    if (!transport || this.status === 'connecting') throw new ConnectionError('not-connected', { text: `cannot send while ${this.status}` });
    return transport;
  }

  /** Wait for a transport event, bounded by the timeout and by the connection's lifetime. */
  private waitFor<T>(transport: Transport, event: 'header' | 'streamEnd', timeoutText: string): Promise<T> {
    const signal = this.signal;
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        transport.off(event, onEvent);
        signal.removeEventListener('abort', onAbort);
      };
      const onEvent = (value?: Element): void => {
        done();
        resolve(value as T);
      };
      const onAbort = (): void => {
        done();
        reject(signal.reason instanceof Error ? signal.reason : new ConnectionError('disconnected'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(timeoutText));
      }, this.options.timeout);
      if (signal.aborted) return onAbort();
      transport.on(event, onEvent);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private attach(transport: Transport): void {
    this.transport = transport;
    const onElement = (el: Element): void => this.onElement(el);
    const onStreamEnd = (): void => this.onStreamEnd();
    const onClose = (clean: boolean, reason?: Error): void => this.onTransportClose(transport, clean, reason);
    const onError = (err: Error): void => this.onTransportError(err);
    const onInput = (data: string): void => void this.emit('input', data);
    const onOutput = (data: string): void => void this.emit('output', data);
    const onRedirect = (service: string): void => {
      this.redirect = service;
    };
    transport.on('element', onElement);
    transport.on('streamEnd', onStreamEnd);
    transport.on('close', onClose);
    transport.on('error', onError);
    transport.on('input', onInput);
    transport.on('output', onOutput);
    transport.on('redirect', onRedirect);
    this.detachTransport = () => {
      transport.off('element', onElement);
      transport.off('streamEnd', onStreamEnd);
      transport.off('close', onClose);
      transport.off('error', onError);
      transport.off('input', onInput);
      transport.off('output', onOutput);
      transport.off('redirect', onRedirect);
    };
  }

  protected onTransportClose(transport: Transport, clean: boolean, reason?: Error): void {
    if (this.transport !== transport) return;
    this.detachTransport?.();
    this.detachTransport = null;
    this.transport = null;
    const wasClosing = this.status === 'disconnecting' || this.status === 'close';
    const info: DisconnectInfo = { clean: clean && wasClosing };
    if (reason) info.reason = reason;
    this.session?.abort(reason ?? new ConnectionError('disconnected', { text: 'the connection closed' }));
    this.closed?.();
    this.setStatus('disconnect', info);
  }

  protected onTransportError(error: Error): void {
    if (error instanceof XMLError) {
      // The peer sent XML we refuse: tell it why, then hang up (RFC 6120 section 4.9).
      const streamErr = new StreamError(error.condition, { text: error.message, cause: error });
      this.lastStreamError = streamErr;
      this.emitError(streamErr);
      void this.streamError(error.condition);
      return;
    }
    this.emitError(error);
  }

  private onStreamEnd(): void {
    if (this.status === 'closing') return; // close() is waiting for it
    // The server closed its stream: close ours too, then the socket.
    const transport = this.transport;
    if (!transport) return;
    if (['connect', 'opening', 'open', 'online'].includes(this.status)) {
      this.setStatus('close', { clean: true });
      transport.closeStream().catch(() => undefined);
    }
    void this.disconnect();
  }

  protected onElement(element: Element): void {
    // A throwing listener is the application's bug, not bad XML: report it and keep the stream.
    this.emitSafely('element', element);
    this.emitSafely(STANZAS.has(element.name) ? 'stanza' : 'nonza', element);
    if (isStreamElement(element, 'error')) this.onStreamError(element);
  }

  private emitSafely(event: 'element' | 'stanza' | 'nonza', element: Element): void {
    try {
      this.emit(event, element);
    } catch (err) {
      this.emitError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** A `<stream:error/>` from the server: report it and hang up (following see-other-host when asked). */
  protected onStreamError(element: Element): void {
    const error = StreamError.fromElement(element);
    if (error.condition === 'see-other-host' && this.service) {
      const target = element.getChildText('see-other-host', NS_STREAM_ERRORS)?.trim();
      const service = target ? seeOtherHost(this.service, target) : null;
      if (service) this.redirect = service;
    }
    this.lastStreamError = error;
    this.emitError(error);
    void this.disconnect();
  }

  /** The last stream error received on this connection. */
  lastStreamError: XMPPError | null = null;
  /** Where the server asked us to go instead (see-other-host, WebSocket see-other-uri); consumed by the client. */
  redirect: string | null = null;
}

/** The service URL with its host (and port, when given) replaced by a see-other-host target. */
export function seeOtherHost(service: string, target: string): string | null {
  try {
    const url = new URL(service);
    const probe = new URL(`${url.protocol}//${target}`);
    url.hostname = probe.hostname;
    url.port = probe.port;
    return url.toString();
  } catch {
    return null;
  }
}
