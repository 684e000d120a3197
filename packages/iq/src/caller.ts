import type { Connection } from '@xmppkit/connection';
import { ConnectionError, StanzaError, TimeoutError, toError } from '@xmppkit/error';
import { jid as parseJid, type JID } from '@xmppkit/jid';
import type { MiddlewareManager } from '@xmppkit/middleware';
import { xml, Element } from '@xmppkit/xml';

let counter = 0;
const prefix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);

/** A short id, unique within this process (a random prefix and a counter). */
export function id(): string {
  return prefix + (++counter).toString(36);
}

/** A request waiting for its reply: who it went to, and how to settle it (clears its timer, drops it from the map). */
interface Pending {
  to: string | undefined;
  /** resolves with a reply element, rejects with anything else */
  end: (outcome: unknown) => void;
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

/** A JID in normal form: '' for none, undefined when unparsable. Equal strings are equal JIDs. */
function normal(value: string | undefined): string | undefined {
  if (!value) return '';
  try {
    return parseJid(value).toString();
  } catch {
    return undefined;
  }
}

/**
 * RFC 6120 section 10.1 rules for who may answer: a request to the server or to our own bare JID
 * may be answered with no `from`, our bare JID or our full JID (or the domain when there was no `to`);
 * any other request only by the entity it was sent to.
 */
export function isValidReplyFrom(requestTo: string | undefined, replyFrom: string | undefined, own: JID | null, domain: string): boolean {
  const to = normal(requestTo);
  const from = normal(replyFrom);
  const full = own?.toString();
  const bare = own?.bare().toString();
  return from !== undefined && (!to || to === bare ? [bare, full, '', !to && domain].includes(from) : from === to || (!from && to === full));
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
  return new Caller(entity, middleware, options.keepOnDisconnect);
}

// A class rather than an object literal with methods and a getter: the methods live on the
// prototype, so each client carries only its fields and its two listeners.
class Caller implements IQCaller {
  timeout = 30_000;
  readonly #pending = new Map<string, Pending>();
  readonly #entity: Connection;

  constructor(entity: Connection, middleware: MiddlewareManager, keep: (() => boolean) | undefined) {
    this.#entity = entity;
    // Take a reply to a pending request; anything else goes on to the other handlers.
    middleware.use((ctx, next) => {
      const stanza = ctx.stanza;
      const type = stanza.attrs.type;
      const entry = stanza.name === 'iq' ? this.#pending.get(stanza.attrs.id as string) : undefined;
      if (!entry || (type !== 'result' && type !== 'error') || !isValidReplyFrom(entry.to, stanza.attrs.from, entity.jid, entity.options.domain)) return next();
      const error = stanza.getChild('error');
      entry.end(type === 'result' ? stanza : error ? StanzaError.fromElement(error) : new StanzaError('undefined-condition', { element: stanza }));
      return undefined;
    });
    entity.on('disconnect', ({ reason }) => {
      // Decide once every disconnect listener has run (stream management decides whether the session survives).
      queueMicrotask(() => keep?.() || this.rejectAll(new ConnectionError('disconnected', { text: 'closed before the reply', cause: reason })));
    });
  }

  get pending(): number {
    return this.#pending.size;
  }

  request(stanza: Element, timeout = this.timeout): Promise<Element> {
    const pending = this.#pending;
    const key = (stanza.attrs.id ||= id());
    return new Promise<Element>((resolve, reject) => {
      const entry: Pending = {
        to: stanza.attrs.to,
        end: (outcome) => {
          // A later request with the same id may have taken the slot: leave that one alone.
          if (pending.get(key) === entry) pending.delete(key);
          clearTimeout(timer);
          if (outcome instanceof Element) resolve(outcome);
          else reject(outcome);
        },
      };
      const timer = setTimeout(() => entry.end(new TimeoutError(`no reply to iq ${key} within ${timeout} ms`)), timeout);
      pending.set(key, entry);
      this.#entity.send(stanza).catch((err: unknown) => entry.end(toError(err)));
    });
  }

  async get(child: Element, to?: string, timeout?: number): Promise<Element | undefined> {
    return (await this.request(xml('iq', { type: 'get', to }, child), timeout)).getChild(child.name, child.attrs.xmlns);
  }

  async set(child: Element, to?: string, timeout?: number): Promise<Element | undefined> {
    return (await this.request(xml('iq', { type: 'set', to }, child), timeout)).getChild(child.name, child.attrs.xmlns);
  }

  rejectAll(error: Error): void {
    for (const entry of this.#pending.values()) entry.end(error);
  }
}
