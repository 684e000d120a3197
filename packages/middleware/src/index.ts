import type { Connection } from '@xmppkit/connection';
import { JID, jid as parseJid } from '@xmppkit/jid';
import type { Element } from '@xmppkit/xml';

/** What an incoming or outgoing middleware sees. JIDs are parsed lazily, only when read. */
export class Context {
  /** the element (for outgoing filters, assign a new element here to replace it) */
  stanza: Element;
  readonly entity: Connection;
  /** `incoming` for `use()`, `outgoing` for `filter()` */
  readonly direction: 'incoming' | 'outgoing';
  private fromJid: JID | null | undefined;
  private toJid: JID | null | undefined;

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
    const type = this.stanza.attrs.type;
    if (type) return type;
    if (this.stanza.name === 'message') return 'normal';
    if (this.stanza.name === 'presence') return 'available';
    return '';
  }
  /** the sender: `from`, or the server (incoming) or ourselves (outgoing) when absent; null when unparsable */
  get from(): JID | null {
    if (this.fromJid === undefined) {
      const attr = this.stanza.attrs.from;
      this.fromJid = attr ? safeJid(attr) : this.direction === 'incoming' ? domainJid(this.entity) : this.entity.jid;
    }
    return this.fromJid;
  }
  /** the recipient: `to`, or ourselves (incoming) or the server (outgoing) when absent */
  get to(): JID | null {
    if (this.toJid === undefined) {
      const attr = this.stanza.attrs.to;
      this.toJid = attr ? safeJid(attr) : this.direction === 'incoming' ? this.entity.jid : domainJid(this.entity);
    }
    return this.toJid;
  }
  /** the peer's JID parts: `from` for incoming, `to` for outgoing */
  get local(): string {
    return this.peer()?.local ?? '';
  }
  get domain(): string {
    return this.peer()?.domain ?? '';
  }
  get resource(): string {
    return this.peer()?.resource ?? '';
  }
  private peer(): JID | null {
    return this.direction === 'incoming' ? this.from : this.to;
  }
}

function safeJid(value: string): JID | null {
  try {
    return parseJid(value);
  } catch {
    return null;
  }
}

function domainJid(entity: Connection): JID | null {
  return entity.options.domain ? safeJid(entity.options.domain) : null;
}

export type Next = () => Promise<unknown>;
export type Middleware = (ctx: Context, next: Next) => unknown;

/** Run `fns` koa-style: each gets `next()` to run the rest. */
export function compose(fns: readonly Middleware[]): (ctx: Context, last?: Next) => Promise<unknown> {
  return (ctx, last) => {
    let index = -1;
    const dispatch = (i: number): Promise<unknown> => {
      if (i <= index) return Promise.reject(new Error('next() called more than once'));
      index = i;
      const fn = i === fns.length ? last : fns[i];
      if (!fn) return Promise.resolve();
      try {
        return Promise.resolve(fn(ctx, () => dispatch(i + 1)));
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
  const incoming: Middleware[] = [];
  const outgoing: Middleware[] = [];
  let runIncoming = compose(incoming);
  let runOutgoing = compose(outgoing);

  entity.on('element', (element) => {
    if (incoming.length === 0) return;
    const ctx = new Context(entity, element, 'incoming');
    runIncoming(ctx).catch((err: unknown) => entity.emitError(err instanceof Error ? err : new Error(String(err))));
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
      runIncoming = compose(incoming);
    },
    filter(fn) {
      outgoing.push(fn);
      runOutgoing = compose(outgoing);
      entity.outgoing = filterHook;
    },
  };
}
