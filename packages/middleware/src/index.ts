import type { Connection } from '@xmppkit/connection';
import { toError } from '@xmppkit/error';
import { jid as parseJid, type JID } from '@xmppkit/jid';
import type { Element } from '@xmppkit/xml';

/** What an incoming or outgoing middleware sees. JIDs are parsed lazily, only when read. */
export class Context {
  /** the element (for outgoing filters, assign a new element here to replace it) */
  declare stanza: Element;
  declare readonly entity: Connection;
  /** `incoming` for `use()`, `outgoing` for `filter()` */
  declare readonly direction: 'incoming' | 'outgoing';
  // undefined until read; null when unparsable or absent
  #from: JID | null | undefined;
  #to: JID | null | undefined;

  constructor(entity: Connection, stanza: Element, direction: 'incoming' | 'outgoing') {
    this.entity = entity;
    this.stanza = stanza;
    this.direction = direction;
  }

  get name(): string {
    return this.stanza.name;
  }
  get id(): string {
    return this.stanza.attrs.id ?? '';
  }
  /** the `type` attribute, defaulting to `normal` for messages and `available` for presence */
  get type(): string {
    const stanza = this.stanza;
    return stanza.attrs.type || (stanza.name === 'message' ? 'normal' : stanza.name === 'presence' ? 'available' : '');
  }
  /** the sender: `from`, or the server (incoming) or ourselves (outgoing) when absent; null when unparsable */
  get from(): JID | null {
    return this.#from !== undefined ? this.#from : (this.#from = this.#jid(this.stanza.attrs.from, this.direction === 'incoming'));
  }
  /** the recipient: `to`, or ourselves (incoming) or the server (outgoing) when absent */
  get to(): JID | null {
    return this.#to !== undefined ? this.#to : (this.#to = this.#jid(this.stanza.attrs.to, this.direction !== 'incoming'));
  }
  /** the peer's JID parts: `from` for incoming, `to` for outgoing */
  get local(): string {
    return this.#peer()?.local ?? '';
  }
  get domain(): string {
    return this.#peer()?.domain ?? '';
  }
  get resource(): string {
    return this.#peer()?.resource ?? '';
  }
  #peer(): JID | null {
    return this.direction === 'incoming' ? this.from : this.to;
  }
  /** `attr` parsed; when absent, the server's domain or our own JID */
  #jid(attr: string | undefined, server: boolean): JID | null {
    if (!attr && !server) return this.entity.jid;
    try {
      return parseJid(attr || this.entity.options.domain);
    } catch {
      return null;
    }
  }
}

export type Next = () => Promise<unknown>;
export type Middleware = (ctx: Context, next: Next) => unknown;

/** Run `fns` koa-style: each gets `next()` to run the rest. */
export function compose(fns: readonly Middleware[]): (ctx: Context, last?: Next) => Promise<unknown> {
  return (ctx, last) => {
    let index = -1;
    const dispatch = (i: number): Promise<unknown> => {
      try {
        if (i <= index) throw new Error('next() called more than once');
        index = i;
        return Promise.resolve((i === fns.length ? last : fns[i])?.(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}

export interface MiddlewareManager {
  /** add an incoming middleware; it runs on every element received (stanzas and nonzas) */
  use(fn: Middleware): void;
  /** add an outgoing filter; it runs before the write and can change `ctx.stanza` or drop it by not calling `next()` */
  filter(fn: Middleware): void;
}

/**
 * Incoming and outgoing middleware for a connection.
 *
 * ```js
 * xmpp.middleware.use(async (ctx, next) => { if (ctx.stanza.is('message')) console.log(ctx.from?.toString()); return next(); });
 * xmpp.middleware.filter((ctx, next) => (ctx.stanza.is('presence') ? undefined : next())); // drop outgoing presence
 * ```
 */
export function middleware({ entity }: { entity: Connection }): MiddlewareManager {
  // compose() reads the arrays when it runs, so middleware added later take part
  const incoming: Middleware[] = [];
  const outgoing: Middleware[] = [];
  const runIncoming = compose(incoming);
  const runOutgoing = compose(outgoing);

  entity.on('element', (element) => {
    runIncoming(new Context(entity, element, 'incoming')).catch((err: unknown) => entity.emitError(toError(err)));
  });

  const filterHook = async (element: Element): Promise<Element | null> => {
    const ctx = new Context(entity, element, 'outgoing');
    let passed = false;
    await runOutgoing(ctx, async () => {
      passed = true;
    });
    return passed ? ctx.stanza : null;
  };

  return {
    use(fn) {
      incoming.push(fn);
    },
    filter(fn) {
      outgoing.push(fn);
      entity.outgoing = filterHook;
    },
  };
}
