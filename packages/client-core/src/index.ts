import { Connection, type ConnectionOptions, type Status, type StreamHeader } from '@xmppkit/connection';
import { ConnectionError, TimeoutError } from '@xmppkit/error';
import { JID, jid as parseJid } from '@xmppkit/jid';

export interface ClientCoreOptions extends ConnectionOptions {
  /** where to connect, for example `wss://example.org/xmpp-websocket` */
  service: string;
  /** the account's localpart (or a bare JID, whose domain then defaults `domain`) */
  username?: string;
  /** how many see-other-host / see-other-uri redirects to follow while starting (default 3) */
  maxRedirects?: number;
}

/** Derive the XMPP domain from a service URL (`wss://chat.example.org/ws` gives `chat.example.org`). */
export function domainFromService(service: string): string {
  try {
    return new URL(service).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}

/**
 * The client entity: a Connection that knows its account, puts `from` on the stream header,
 * and whose `start()` runs a whole login and resolves with the bound JID.
 */
export class Client extends Connection {
  declare readonly username: string | undefined;
  declare readonly maxRedirects: number;
  /** the service given in the options */
  declare readonly initialService: string;
  /** Run once at every start(), before connecting (stream management loads persisted state here). */
  readonly startHooks: Array<() => Promise<void>> = [];
  /** Run after every stop(), once the client is offline (stream management forgets its session here). */
  readonly stopHooks: Array<() => void> = [];
  /** True from stop() until the client is offline. */
  stopping = false;
  /** why the current attempt failed, when a feature knows better than "disconnected"; set by fail() until the next attempt */
  #failure: Error | null = null;
  /** true while start() is running */
  #starting = false;

  constructor(options: ClientCoreOptions) {
    let { username, domain } = options;
    if (username?.includes('@')) {
      const parsed = parseJid(username);
      username = parsed.local;
      domain ??= parsed.domain;
    }
    domain ??= domainFromService(options.service);
    super({ ...options, domain });
    if (!domain) throw new ConnectionError('bad-options', { text: 'no domain' });
    this.username = username;
    this.initialService = options.service;
    this.maxRedirects = options.maxRedirects ?? 3;
  }

  /** Our bare JID when the account is known, so servers can offer account-specific features. */
  protected override headerAttrs(): StreamHeader {
    const header = super.headerAttrs();
    header.from = this.jid ? this.jid.bare().toString() : this.username ? `${this.username}@${this.options.domain}` : undefined;
    return header;
  }

  /** The error that ended the last login or session, when a feature knew why (SASLError, StreamError...). */
  get lastFailure(): Error | null {
    return this.#failure;
  }

  /** True while `start()` has not settled yet. */
  get isStarting(): boolean {
    return this.#starting;
  }

  /**
   * Connect, authenticate and bind; resolves with the bound JID once `online`.
   * Rejects with the cause (SASLError for a wrong password, StreamError, TimeoutError, a connection error)
   * and leaves the client `offline`, ready for another `start()`.
   */
  async start(): Promise<JID> {
    if (this.status !== 'offline' || this.#starting) throw new ConnectionError('invalid-state', { text: `needs status offline, not ${this.#starting ? 'starting' : this.status}` });
    this.#starting = true;
    try {
      for (const hook of this.startHooks) await hook();
      return await this.establish();
    } catch (err) {
      // nothing to do when already offline: there is no socket, and the status is not disconnect
      await this.disconnect();
      if ((this.status as Status) === 'disconnect') this.setStatus('offline');
      throw err;
    } finally {
      this.#starting = false;
    }
  }

  /**
   * Connect and negotiate a session, new or resumed, from `offline` or `disconnect`, following redirects.
   * Resolves with the JID once the status is `online`. Used by start() and by reconnect.
   */
  async establish(service: string = this.initialService): Promise<JID> {
    for (let redirects = 0; ; redirects++) {
      this.redirect = null;
      try {
        return await this.#attempt(service);
      } catch (err) {
        const redirect = this.redirect as string | null;
        if (!redirect || redirects >= this.maxRedirects) throw err;
        await this.disconnect();
        if ((this.status as Status) !== 'disconnect') throw err;
        service = redirect;
      }
    }
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    try {
      await super.stop();
    } finally {
      for (const hook of this.stopHooks) hook();
      this.stopping = false;
    }
  }

  /** One connection attempt, from connect to online. */
  async #attempt(service: string): Promise<JID> {
    this.#failure = this.lastStreamError = null;
    const ms = this.options.timeout;
    let idle: ReturnType<typeof setTimeout> | undefined;
    // A server that stops answering during negotiation is given up after `timeout` of silence
    // (fail() does nothing more once it has run).
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => this.fail(new TimeoutError(`server silent for ${ms} ms during login`)), ms);
    };
    // Settles `online` on status online or disconnect (with the disconnect's reason); with no status, it only stops.
    let settle!: (status?: Status) => void;
    const online = new Promise<JID>((resolve, reject) => {
      settle = (status) => {
        if (status && status !== 'online' && status !== 'disconnect') return;
        clearTimeout(idle);
        this.off('status', settle);
        this.off('element', arm);
        if (status === 'online') resolve(this.jid as JID);
        else reject(this.signal.reason);
      };
    });
    online.catch(() => undefined);
    this.on('status', settle);
    try {
      await this.connect(service);
      this.on('element', arm);
      arm();
      await this.open();
      return await online;
    } catch (err) {
      settle();
      // the most precise cause known
      throw this.#failure ?? this.lastStreamError ?? err;
    }
  }

  /**
   * Give up the current login or session because of `error` (for example an authentication failure):
   * report it, close the stream and the socket. `start()` rejects with this error.
   */
  fail(error: Error): void {
    if (this.#failure) return;
    this.emitError((this.#failure = error));
    this.close()
      .then(() => this.disconnect())
      .catch(() => undefined);
  }

  /** Called by resource binding when a new session is ready: status `online` and the `online` event. */
  setOnline(jid: JID): void {
    this.setStatus('online', (this.jid = jid));
  }

  /** Called by stream management when a session was resumed: status `online` again, without a new `online` event. */
  setResumed(jid: JID): void {
    this.jid = jid;
    this.setStatusQuietly('online');
  }
}

export { JID };
