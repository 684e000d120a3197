import type { Connection } from '@xmppkit/connection';
import { StanzaError } from '@xmppkit/error';
import type { Context, MiddlewareManager } from '@xmppkit/middleware';
import { xml, Element } from '@xmppkit/xml';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/**
 * Answers one kind of IQ. Return an element for a result with that payload, `true` (or any other truthy value)
 * for an empty result, a falsy value for `service-unavailable`; throw a StanzaError for that error.
 */
export type IQHandler = (ctx: Context & { element: Element }) => unknown;

export interface IQCallee {
  get(xmlns: string, name: string, handler: IQHandler): void;
  set(xmlns: string, name: string, handler: IQHandler): void;
}

/** Build an error reply to `iq`. */
export function iqError(iq: Element, condition: string, type = 'cancel', text?: string): Element {
  const error = xml('error', { type }, xml(condition, NS_STANZAS));
  if (text) error.appendChild(xml('text', NS_STANZAS, text));
  return xml('iq', { type: 'error', to: iq.attrs.from, id: iq.attrs.id }, error);
}

const ERROR_TYPES: Record<string, string> = {
  'bad-request': 'modify',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  'item-not-found': 'cancel',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'service-unavailable': 'cancel',
  'internal-server-error': 'cancel',
};

export function iqCallee({ entity, middleware }: { entity: Connection; middleware: MiddlewareManager }): IQCallee {
  const handlers = new Map<string, IQHandler>();

  const reply = (el: Element): void => {
    entity.send(el).catch((err: unknown) => entity.emitError(err instanceof Error ? err : new Error(String(err))));
  };

  // Not async: everything but an iq get/set passes straight on, with no promise of its own.
  middleware.use((ctx, next) => {
    const iq = ctx.stanza;
    const type = iq.attrs.type;
    if (iq.name !== 'iq' || (type !== 'get' && type !== 'set')) return next();
    return handle(ctx, iq, type);
  });

  const handle = async (ctx: Context, iq: Element, type: string): Promise<undefined> => {
    const children = iq.getChildElements();
    if (children.length !== 1 || !iq.attrs.id) {
      reply(iqError(iq, 'bad-request', 'modify', 'an iq get or set must have an id and exactly one child element'));
      return undefined;
    }
    const child = children[0] as Element;
    const handler = handlers.get(`${type}\u0000${child.attrs.xmlns ?? ''}\u0000${child.name}`);
    if (!handler) {
      reply(iqError(iq, 'service-unavailable'));
      return undefined;
    }
    let result: unknown;
    try {
      result = await handler(Object.assign(ctx, { element: child }));
    } catch (err) {
      if (err instanceof StanzaError) {
        reply(iqError(iq, err.condition, err.type ?? ERROR_TYPES[err.condition] ?? 'cancel', err.text));
      } else {
        reply(iqError(iq, 'internal-server-error', 'cancel'));
        entity.emitError(err instanceof Error ? err : new Error(String(err)));
      }
      return undefined;
    }
    if (result instanceof Element) {
      if (result.name === 'error') reply(xml('iq', { type: 'error', to: iq.attrs.from, id: iq.attrs.id }, result));
      else reply(xml('iq', { type: 'result', to: iq.attrs.from, id: iq.attrs.id }, result));
    } else if (result) reply(xml('iq', { type: 'result', to: iq.attrs.from, id: iq.attrs.id }));
    else reply(iqError(iq, 'service-unavailable'));
    return undefined;
  };

  const register = (type: 'get' | 'set') => (xmlns: string, name: string, handler: IQHandler) => {
    handlers.set(`${type}\u0000${xmlns}\u0000${name}`, handler);
  };
  return { get: register('get'), set: register('set') };
}

export const NS_PING = 'urn:xmpp:ping';

/** Answer XEP-0199 pings. */
export function pingResponder(callee: IQCallee): void {
  callee.get(NS_PING, 'ping', () => true);
}
