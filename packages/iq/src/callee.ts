import type { Connection } from '@xmppkit/connection';
import { StanzaError, toError } from '@xmppkit/error';
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

/** A reply of `type` to `iq`. */
const answer = (iq: Element, type: string, child?: Element): Element => xml('iq', { type, to: iq.attrs.from, id: iq.attrs.id }, child);

/** Build an error reply to `iq`. */
export function iqError(iq: Element, condition: string, type = 'cancel', text?: string): Element {
  return answer(iq, 'error', xml('error', { type }, xml(condition, NS_STANZAS), text && xml('text', NS_STANZAS, text)));
}

/** The error type of the conditions a thrown StanzaError may leave without one; any other is `cancel`. */
const ERROR_TYPES: Record<string, 'auth' | 'modify'> = {
  'bad-request': 'modify',
  'not-acceptable': 'modify',
  forbidden: 'auth',
  'not-authorized': 'auth',
};

export function iqCallee({ entity, middleware }: { entity: Connection; middleware: MiddlewareManager }): IQCallee {
  // keyed `${type}${name} ${xmlns}`: type is get or set, and a name has no space
  const handlers = new Map<string, IQHandler>();
  const fail = (err: unknown): void => entity.emitError(toError(err));

  // Not async: everything but an iq get/set passes straight on, with no promise of its own.
  middleware.use((ctx, next) => {
    const iq = ctx.stanza;
    const type = iq.attrs.type;
    return iq.name === 'iq' && (type === 'get' || type === 'set') ? handle(ctx as Context & { element: Element }, iq, type) : next();
  });

  const handle = async (ctx: Context & { element: Element }, iq: Element, type: string): Promise<void> => {
    const [child, extra] = iq.getChildElements();
    let out: Element;
    if (!child || extra || !iq.attrs.id) out = iqError(iq, 'bad-request', 'modify', 'needs an id and one child');
    else {
      const handler = handlers.get(`${type}${child.name} ${child.attrs.xmlns ?? ''}`);
      ctx.element = child;
      try {
        const result = handler && (await handler(ctx));
        out =
          result instanceof Element
            ? answer(iq, result.name === 'error' ? 'error' : 'result', result)
            : result
              ? answer(iq, 'result')
              : iqError(iq, 'service-unavailable');
      } catch (err) {
        if (err instanceof StanzaError) out = iqError(iq, err.condition, err.type ?? ERROR_TYPES[err.condition], err.text);
        else {
          // the details of a bug stay local
          out = iqError(iq, 'internal-server-error');
          fail(err);
        }
      }
    }
    entity.send(out).catch(fail);
  };

  return {
    get: (xmlns, name, handler) => void handlers.set(`get${name} ${xmlns}`, handler),
    set: (xmlns, name, handler) => void handlers.set(`set${name} ${xmlns}`, handler),
  };
}

export const NS_PING = 'urn:xmpp:ping';

/** Answer XEP-0199 pings. */
export function pingResponder(callee: IQCallee): void {
  callee.get(NS_PING, 'ping', () => true);
}
