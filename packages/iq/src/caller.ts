import type { Connection } from '@xmppkit/connection';
import { ConnectionError, StanzaError, TimeoutError } from '@xmppkit/error';
import { JID, jid as parseJid } from '@xmppkit/jid';
import type { MiddlewareManager } from '@xmppkit/middleware';
import { xml, type Element } from '@xmppkit/xml';
import { id as makeId } from './id.js';

interface Pending {
  resolve: (reply: Element) => void;
  reject: (err: Error) => void;
  to: string | undefined;
  timer: ReturnType<typeof setTimeout>;
}

export interface IQCaller {
  /** Send an iq and resolve with the whole `result` reply; reject with StanzaError, TimeoutError or on disconnect. */
  request(stanza: Element, timeout?: number): Promise<Element>;
  /** Send `<iq type=get>` with `child`; resolve with the reply's child of the same name and namespace. */
  get(child: Element, to?: string, timeout?: number): Promise<Element | undefined>;
  /** Send `<iq type=set>` with `child`; resolve with the reply's child of the same name and namespace. */
  set(child: Element, to?: string, timeout?: number): Promise<Element | undefined>;
  /** requests waiting for a reply */
  readonly pending: number;
  /** default timeout in ms (30 000) */
  timeout: number;
  /** Reject every pending request (used on disconnect). */
  rejectAll(error: Error): void;
}

function safeJid(value: string | undefined): JID | null {
  if (!value) return null;
  try {
    return parseJid(value);
  } catch {
    return null;
  }
}

/**
 * RFC 6120 section 10.1 rules for who may answer: a request to the server or to our own bare JID
 * may be answered with no `from`, our bare JID or our full JID (or the domain when there was no `to`);
 * any other request only by the entity it was sent to.
 */
export function isValidReplyFrom(requestTo: string | undefined, replyFrom: string | undefined, own: JID | null, domain: string): boolean {
  const to = safeJid(requestTo);
  const from = safeJid(replyFrom);
  if (replyFrom && !from) return false;
  const ownBare = own?.bare() ?? null;
  if (to === null || (ownBare !== null && to.equals(ownBare))) {
    if (from === null) return true;
    if (ownBare && (from.equals(ownBare) || (own !== null && from.equals(own)))) return true;
    return to === null && from.toString() === domain;
  }
  if (from === null) return own !== null && to.equals(own);
  return from.equals(to);
}

export interface IQCallerOptions {
  /**
   * Consulted right after a disconnect: true keeps pending requests waiting (their timeout still runs),
   * because the session will be resumed and the replies will arrive on it. `client()` passes
   * `() => xmpp.streamManagement.canResume`. Default: every pending request rejects on disconnect.
   */
  keepOnDisconnect?: () => boolean;
}

export function iqCaller({ entity, middleware }: { entity: Connection; middleware: MiddlewareManager }, options: IQCallerOptions = {}): IQCaller {
  const caller = new Caller(entity, options.keepOnDisconnect);
  middleware.use((ctx, next) => {
    if (ctx.stanza.name === 'iq' && caller.settle(ctx.stanza)) return undefined;
    return next();
  });
  entity.on('disconnect', (info) => caller.onDisconnect(info.reason));
  return caller;
}

// A class rather than an object literal with methods and a getter: the methods live on the
// prototype, so each client carries only its fields.
class Caller implements IQCaller {
  timeout = 30_000;
  readonly #pending = new Map<string, Pending>();

  constructor(
    private readonly entity: Connection,
    private readonly keepOnDisconnect: (() => boolean) | undefined,
  ) {}

  get pending(): number {
    return this.#pending.size;
  }

  /** Take a reply for a pending request; false when it is not one (it goes on to other handlers). */
  settle(stanza: Element): boolean {
    const type = stanza.attrs.type;
    if (type !== 'result' && type !== 'error') return false;
    const key = stanza.attrs.id;
    if (!key) return false;
    const entry = this.#pending.get(key);
    if (!entry) return false;
    if (!isValidReplyFrom(entry.to, stanza.attrs.from, this.entity.jid, this.entity.options.domain)) return false;
    this.#pending.delete(key);
    clearTimeout(entry.timer);
    if (type === 'result') entry.resolve(stanza);
    else {
      const error = stanza.getChild('error');
      entry.reject(error ? StanzaError.fromElement(error) : new StanzaError('undefined-condition', { element: stanza }));
    }
    return true;
  }

  request(stanza: Element, timeout = this.timeout): Promise<Element> {
    const pending = this.#pending;
    const key = stanza.attrs.id || (stanza.attrs.id = makeId());
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (pending.get(key)?.timer === timer) pending.delete(key);
        reject(new TimeoutError(`no reply to iq ${key} within ${timeout} ms`));
      }, timeout);
      pending.set(key, { resolve, reject, to: stanza.attrs.to, timer });
      this.entity.send(stanza).catch((err: unknown) => {
        if (pending.get(key)?.timer !== timer) return;
        pending.delete(key);
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  async get(child: Element, to?: string, timeout?: number): Promise<Element | undefined> {
    const reply = await this.request(xml('iq', { type: 'get', to }, child), timeout);
    return reply.getChild(child.name, child.attrs.xmlns);
  }

  async set(child: Element, to?: string, timeout?: number): Promise<Element | undefined> {
    const reply = await this.request(xml('iq', { type: 'set', to }, child), timeout);
    return reply.getChild(child.name, child.attrs.xmlns);
  }

  rejectAll(error: Error): void {
    for (const [key, entry] of this.#pending) {
      this.#pending.delete(key);
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  onDisconnect(reason: Error | undefined): void {
    if (this.#pending.size === 0) return;
    const rejectAll = (): void => this.rejectAll(new ConnectionError('disconnected', { text: 'the connection closed before the reply', cause: reason }));
    const keep = this.keepOnDisconnect;
    if (!keep) return rejectAll();
    // Decide once every disconnect listener has run (stream management decides whether the session survives).
    queueMicrotask(() => {
      if (!keep()) rejectAll();
    });
  }
}
