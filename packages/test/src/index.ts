import type { StreamHeader, Transport, TransportEvents, TransportFactory, TransportOptions } from '@xmppkit/connection';
import { EventEmitter } from '@xmppkit/events';
import { Element, Parser, xml } from '@xmppkit/xml';

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

export interface ServerEvents {
  /** a new client connection */
  connection: [conn: ServerConnection];
}

/** One client connection as the scripted server sees it. */
export class ServerConnection extends EventEmitter<{ element: [Element]; header: [StreamHeader]; close: []; streamEnd: [] }> {
  /** every element the client sent, in order (headers and stream ends excluded) */
  readonly received: Element[] = [];
  /** the client's stream headers */
  readonly headers: StreamHeader[] = [];
  private waiters: Array<{ match: (el: Element) => boolean; resolve: (el: Element) => void }> = [];
  private cursor = 0;
  closed = false;
  /** answer the client's stream close with ours (default true) */
  answerClose = true;
  /** when true, writes from either side are silently swallowed (a blackholed link) */
  blackholed = false;

  constructor(readonly transport: MemoryTransport) {
    super();
  }

  /** Resolve with the next element the client sends that matches (default: any), in order. */
  next(match: string | ((el: Element) => boolean) = () => true): Promise<Element> {
    const test = typeof match === 'string' ? (el: Element) => el.name === match : match;
    while (this.cursor < this.received.length) {
      const el = this.received[this.cursor++] as Element;
      if (test(el)) return Promise.resolve(el);
    }
    return new Promise((resolve) => this.waiters.push({ match: test, resolve }));
  }

  /** @internal */
  deliver(el: Element): void {
    if (this.blackholed) return;
    this.received.push(el);
    this.emit('element', el);
    const waiter = this.waiters[0];
    if (waiter) {
      this.cursor = this.received.length;
      if (waiter.match(el)) {
        this.waiters.shift();
        waiter.resolve(el);
      }
    }
  }

  /** Send raw text to the client (it goes through the client's parser). */
  sendRaw(text: string): void {
    if (this.closed || this.blackholed) return;
    queueMicrotask(() => this.transport.receive(text));
  }

  send(...elements: Element[]): void {
    for (const el of elements) this.sendRaw(el.toString());
  }

  sendHeader(attrs: Record<string, string> = {}): void {
    this.sendRaw(xml('open', { xmlns: FRAMING, version: '1.0', from: 'localhost', id: 'stream-' + Math.random().toString(36).slice(2), ...attrs }).toString());
  }

  sendFeatures(...features: Element[]): void {
    this.send(xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, ...features));
  }

  sendStreamError(condition: string, text?: string): void {
    const err = xml('stream:error', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml(condition, 'urn:ietf:params:xml:ns:xmpp-streams'));
    if (text) err.appendChild(xml('text', 'urn:ietf:params:xml:ns:xmpp-streams', text));
    this.send(err);
  }

  /** Resolve when the client sends its next stream header. */
  nextHeader(): Promise<StreamHeader> {
    const seen = this.headersTaken;
    if (seen < this.headers.length) {
      this.headersTaken++;
      return Promise.resolve(this.headers[seen] as StreamHeader);
    }
    return new Promise((resolve) =>
      this.once('header', (h) => {
        this.headersTaken++;
        resolve(h);
      }),
    );
  }
  private headersTaken = 0;

  /**
   * Play the authentication part of a login: header, SASL PLAIN (or `<failure/>` with `authFailure`), restart,
   * then the post-auth features (default: `<bind/>`). Resolves false when authentication was refused.
   */
  async authenticate(options: { authFailure?: string; features?: Element[]; mechanisms?: string[] } = {}): Promise<boolean> {
    await this.nextHeader();
    this.sendHeader();
    this.sendFeatures(xml('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl', ...(options.mechanisms ?? ['PLAIN']).map((m) => xml('mechanism', {}, m))));
    await this.next((el) => el.name === 'auth');
    if (options.authFailure) {
      this.send(xml('failure', 'urn:ietf:params:xml:ns:xmpp-sasl', xml(options.authFailure)));
      return false;
    }
    this.send(xml('success', 'urn:ietf:params:xml:ns:xmpp-sasl'));
    await this.nextHeader();
    this.sendHeader();
    this.sendFeatures(...(options.features ?? [xml('bind', 'urn:ietf:params:xml:ns:xmpp-bind')]));
    return true;
  }

  /** Answer the client's `<bind/>` request with `jid`. */
  async bind(jid = 'user@localhost/res'): Promise<string> {
    const bind = await this.next((el) => el.name === 'iq' && el.getChild('bind') !== undefined);
    this.send(xml('iq', { type: 'result', id: bind.attrs.id }, xml('bind', 'urn:ietf:params:xml:ns:xmpp-bind', xml('jid', {}, jid))));
    return jid;
  }

  /**
   * Play a standard login: authentication, then `<bind/>` with any extra post-auth features.
   * Returns the bound JID.
   */
  async login(options: { jid?: string; authFailure?: string; postAuthFeatures?: Element[]; mechanisms?: string[] } = {}): Promise<string> {
    const jid = options.jid ?? 'user@localhost/res';
    const ok = await this.authenticate({
      ...options,
      features: [xml('bind', 'urn:ietf:params:xml:ns:xmpp-bind'), ...(options.postAuthFeatures ?? [])],
    });
    if (!ok) return jid;
    return this.bind(jid);
  }

  /** Close the stream from the server side. */
  closeStream(): void {
    this.sendRaw(xml('close', FRAMING).toString());
  }

  /** Drop the link abruptly (like a TCP RST). */
  cut(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.transport.remoteClose(false, new Error('connection reset')));
  }
}

/**
 * An in-memory XMPP server for unit tests. Its `factory` is a TransportFactory for `memory:` services;
 * each client connection shows up as a `connection` event with a ServerConnection to script.
 */
export class ScriptedServer extends EventEmitter<ServerEvents> {
  readonly connections: ServerConnection[] = [];
  /** refuse new connections (connect rejects) */
  refuse = false;
  /** never answer connection attempts */
  hang = false;
  private waiting: Array<(c: ServerConnection) => void> = [];

  readonly factory: TransportFactory = {
    name: 'memory',
    accepts: (service) => service.startsWith('memory:'),
    create: (options) => new MemoryTransport(this, options),
  };

  /** Resolve with the next new connection (or one already made and not yet taken). */
  nextConnection(): Promise<ServerConnection> {
    const taken = this.taken;
    if (taken < this.connections.length) {
      this.taken++;
      return Promise.resolve(this.connections[taken] as ServerConnection);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  private taken = 0;

  /** @internal */
  accept(conn: ServerConnection): void {
    this.connections.push(conn);
    const waiter = this.waiting.shift();
    if (waiter) {
      this.taken++;
      waiter(conn);
    }
    this.emit('connection', conn);
  }
}

export class MemoryTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly secure = false;
  readonly loopback = true;
  readonly peer: ServerConnection;
  private parser: Parser;
  private open = false;

  constructor(
    private readonly server: ScriptedServer,
    readonly options: TransportOptions,
  ) {
    super();
    this.peer = new ServerConnection(this);
    this.parser = this.makeParser();
  }

  private makeParser(): Parser {
    const parser = new Parser({ mode: 'fragments', maxStanzaSize: this.options.maxStanzaSize });
    parser.on('element', (el) => {
      if (el.name === 'open' && el.attrs.xmlns === FRAMING) this.emit('header', el);
      else if (el.name === 'close' && el.attrs.xmlns === FRAMING) this.emit('streamEnd');
      else this.emit('element', el);
    });
    parser.on('error', (err) => this.emit('error', err));
    return parser;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.server.refuse) throw Object.assign(new Error('connect ECONNREFUSED (memory)'), { code: 'ECONNREFUSED' });
    if (this.server.hang) {
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    }
    this.open = true;
    this.server.accept(this.peer);
  }

  /** @internal text from the server */
  receive(text: string): void {
    if (!this.open) return;
    this.emit('input', text);
    this.parser.write(text);
  }

  /** @internal the server dropped the link */
  remoteClose(clean: boolean, reason?: Error): void {
    if (!this.open) return;
    this.open = false;
    this.emit('close', clean, reason);
  }

  private toServer(el: Element): void {
    if (!this.open) throw new Error('socket closed');
    const text = el.toString();
    this.emit('output', text);
    if (this.peer.blackholed) return;
    // Round-trip through text so the server sees exactly what was serialised.
    const copy = new Parser({ mode: 'fragments', maxStanzaSize: Infinity });
    copy.on('element', (parsed) => queueMicrotask(() => this.peer.deliver(parsed)));
    copy.write(text);
  }

  async openStream(header: StreamHeader): Promise<void> {
    this.parser = this.makeParser();
    if (!this.open) throw new Error('socket closed');
    this.emit('output', xml('open', { xmlns: FRAMING, ...header }).toString());
    this.peer.headers.push(header);
    queueMicrotask(() => this.peer.emit('header', header));
  }

  async closeStream(): Promise<void> {
    if (!this.open) throw new Error('socket closed');
    this.emit('output', xml('close', FRAMING).toString());
    queueMicrotask(() => {
      this.peer.emit('streamEnd');
      // Like a real server, answer our close with its own unless the script says otherwise.
      if (this.peer.answerClose && !this.peer.blackholed) this.peer.closeStream();
    });
  }

  async send(element: Element): Promise<void> {
    this.toServer(element);
  }

  async sendMany(elements: readonly Element[]): Promise<void> {
    for (const el of elements) this.toServer(el);
  }

  async write(data: string): Promise<void> {
    if (!this.open) throw new Error('socket closed');
    this.emit('output', data);
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    this.peer.closed = true;
    queueMicrotask(() => {
      this.peer.emit('close');
      this.emit('close', true);
    });
  }

  destroy(reason?: Error): void {
    if (!this.open) return;
    this.open = false;
    this.peer.closed = true;
    queueMicrotask(() => {
      this.peer.emit('close');
      this.emit('close', false, reason);
    });
  }
}

const NS_SM = 'urn:xmpp:sm:3';

/**
 * The server side of Stream Management on one scripted connection: counts what the client sends
 * (the server's `h`), answers `<r/>` with `<a/>` unless told not to, and counts what it sends.
 */
export class ServerStreamManagement {
  /** stanzas received from the client (the server's h) */
  handled: number;
  /** answer `<r/>` automatically */
  autoAck = true;
  /** `<r/>` received */
  requests = 0;

  constructor(
    readonly peer: ServerConnection,
    initialHandled = 0,
  ) {
    this.handled = initialHandled;
    peer.on('element', (el) => {
      if (['iq', 'message', 'presence'].includes(el.name)) this.handled = (this.handled + 1) >>> 0;
      else if (el.name === 'r' && el.attrs.xmlns === NS_SM) {
        this.requests++;
        if (this.autoAck) this.ack();
      }
    });
  }

  /** Send `<a h/>` (the current count, or `h`). */
  ack(h: number = this.handled): void {
    this.peer.send(xml('a', { xmlns: NS_SM, h }));
  }
}

/** The `<sm xmlns='urn:xmpp:sm:3'/>` stream feature. */
export const smFeature = (): Element => xml('sm', NS_SM);

/** Resolve on the next macrotask (lets queued microtasks and I/O callbacks run). */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export { xml, Element };
