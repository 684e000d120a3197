import { Connection, type ConnectionOptions, type StreamHeader } from '@xmppkit/connection';
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
  readonly username: string | undefined;
  readonly maxRedirects: number;
  /** the service given in the options */
  readonly initialService: string;
  /** why the current start attempt failed, when a feature knows better than "disconnected" */
  private startError: Error | null = null;
  /** true while start() is running */
  private starting = false;
  /** set by fail() until the next connection attempt */
  private failing = false;

  constructor(options: ClientCoreOptions) {
    let username = options.username;
    let domain = options.domain;
    if (username && username.includes('@')) {
      const parsed = parseJid(username);
      username = parsed.local;
      domain ??= parsed.domain;
    }
    domain ??= domainFromService(options.service);
    super({ ...options, domain });
    if (!domain) throw new ConnectionError('bad-options', { text: 'no domain: pass `domain` or a service URL with a host name' });
    this.username = username;
    this.initialService = options.service;
    this.maxRedirects = options.maxRedirects ?? 3;
  }

  /** Our bare JID when the account is known, so servers can offer account-specific features. */
  protected override headerAttrs(): StreamHeader {
    const header = super.headerAttrs();
    const from = this.jid ? this.jid.bare().toString() : this.username ? `${this.username}@${this.options.domain}` : undefined;
    if (from) header.from = from;
    return header;
  }

  /** Run once at every start(), before connecting (stream management loads persisted state here). */
  readonly startHooks: Array<() => Promise<void>> = [];
  /** The error that ended the last login or session, when a feature knew why (SASLError, StreamError...). */
  get lastFailure(): Error | null {
    return this.startError;
  }
  /** True from stop() until the client is offline. */
  stopping = false;

  /**
   * Connect, authenticate and bind; resolves with the bound JID once `online`.
   * Rejects with the cause (SASLError for a wrong password, StreamError, TimeoutError, a connection error)
   * and leaves the client `offline`, ready for another `start()`.
   */
  async start(): Promise<JID> {
    if (this.status !== 'offline' || this.starting) throw new ConnectionError('invalid-state', { text: `start() needs status offline, not ${this.starting ? 'starting' : this.status}` });
    this.starting = true;
    try {
      for (const hook of this.startHooks) await hook();
      return await this.establish();
    } catch (err) {
      if (this.statusNow() !== 'offline') {
        await this.disconnect();
        if (this.statusNow() === 'disconnect') this.setStatus('offline');
      }
      throw err;
    } finally {
      this.starting = false;
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
        return await this.attempt(service);
      } catch (err) {
        const redirect = this.redirect as string | null;
        if (redirect && redirects < this.maxRedirects) {
          await this.disconnect();
          if (this.statusNow() === 'disconnect') {
            service = redirect;
            continue;
          }
        }
        throw err;
      }
    }
  }

  /** Run after every stop(), once the client is offline (stream management forgets its session here). */
  readonly stopHooks: Array<() => void> = [];

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
  private async attempt(service: string): Promise<JID> {
    this.startError = null;
    this.failing = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let onElement = (): void => {};
    let cleanup = (): void => {};
    const online = new Promise<JID>((resolve, reject) => {
      const onStatus = (status: string): void => {
        if (status !== 'online') return;
        cleanup();
        resolve(this.jid as JID);
      };
      const onDisconnect = (info: { reason?: Error }): void => {
        cleanup();
        reject(this.startError ?? this.lastStreamError ?? info.reason ?? new ConnectionError('disconnected', { text: 'disconnected before online' }));
      };
      // A server that stops answering during negotiation is given up after `timeout` of silence.
      const arm = (): void => {
        clearTimeout(idle);
        if (this.failing) return;
        idle = setTimeout(() => this.fail(new TimeoutError(`the server sent nothing for ${this.options.timeout} ms during login`)), this.options.timeout);
      };
      onElement = arm;
      cleanup = () => {
        clearTimeout(idle);
        this.off('status', onStatus);
        this.off('disconnect', onDisconnect);
        this.off('element', onElement);
      };
      this.on('status', onStatus);
      this.on('disconnect', onDisconnect);
    });
    online.catch(() => undefined);
    this.lastStreamError = null;
    try {
      await this.connect(service);
      this.on('element', onElement);
      onElement();
      await this.open();
    } catch (err) {
      cleanup();
      throw this.startError ?? this.lastStreamError ?? err;
    }
    return online;
  }

  /**
   * Give up the current login or session because of `error` (for example an authentication failure):
   * report it, close the stream and the socket. `start()` rejects with this error.
   */
  fail(error: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.startError = error;
    this.emitError(error);
    void (async () => {
      await this.close();
      await this.disconnect();
    })().catch(() => undefined);
  }

  /** Called by resource binding when a new session is ready: status `online` and the `online` event. */
  setOnline(jid: JID): void {
    this.jid = jid;
    this.setStatus('online', jid);
  }

  /** Called by stream management when a session was resumed: status `online` again, without a new `online` event. */
  setResumed(jid: JID): void {
    this.jid = jid;
    this.setStatusQuietly('online');
  }

  /** True while `start()` has not settled yet. */
  get isStarting(): boolean {
    return this.starting;
  }
}

export { JID };
