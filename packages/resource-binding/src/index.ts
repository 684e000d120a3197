import type { Client } from '@xmppkit/client-core';
import { jid as parseJid, type JID } from '@xmppkit/jid';
import type { IQCaller } from '@xmppkit/iq';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { xml } from '@xmppkit/xml';

export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

/** A resource, or a function (possibly async) that returns one; empty or undefined lets the server choose. */
export type Resource = string | undefined | (() => string | undefined | Promise<string | undefined>);

export interface ResourceBinding {
  /** bind a resource now (normally called for you when the server offers `<bind/>`) */
  bind(resource?: string): Promise<JID>;
}

/**
 * Resource binding (RFC 6120 section 7): when the server offers `<bind/>`, bind `resource` (or let the server pick),
 * establish the legacy session if the server still requires it, let lower-priority features run, then go online.
 */
export function resourceBinding(
  { streamFeatures, iqCaller, entity }: { streamFeatures: StreamFeatures; iqCaller: IQCaller; entity: Client },
  resource?: Resource,
): ResourceBinding {
  const bind = async (name?: string): Promise<JID> => {
    const value = (await iqCaller.set(xml('bind', NS_BIND, name && xml('resource', {}, name))))?.getChildText('jid');
    if (!value) throw new Error('the server did not return a bound JID');
    return parseJid(value);
  };

  streamFeatures.use(
    'bind',
    NS_BIND,
    async (ctx, next) => {
      const chosen = typeof resource === 'function' ? await resource() : resource;
      let jid: JID;
      try {
        jid = entity.jid = await bind(chosen);
        const session = ctx.stanza.getChild('session', NS_SESSION);
        if (session && !session.getChild('optional')) await iqCaller.set(xml('session', NS_SESSION));
      } catch (err) {
        // a failed bind or session ends the login (iqCaller rejects with Errors only)
        return entity.fail(err as Error);
      }
      await next();
      if (entity.status === 'open') entity.setOnline(jid);
    },
    100,
  );

  return { bind };
}
