import type { Connection } from '@xmppkit/connection';
import { Element } from '@xmppkit/xml';

/**
 * `${xmlns} ${name}` of the elements whose text is secret: SASL and SASL2 payloads, and passwords,
 * digests and tokens wherever they appear (jabber:iq:register, jabber:iq:auth, FAST, SASL2, custom).
 */
const SECRET = /^urn:(ietf:params:xml:ns:xmpp-sasl|xmpp:sasl:2) (auth|challenge|response|success)$| (password|digest|token|initial-response|additional-data)$/;

function copy(el: Element, hide?: boolean): Element {
  const { name, attrs } = el;
  const out = new Element(name, attrs);
  // attributes whose values are secrets wherever they appear
  for (const key of ['token', 'password']) out.attrs[key] &&= '(hidden)';
  hide ||=
    SECRET.test(`${attrs.xmlns} ${name}`) ||
    // XEP-0004 data forms: password fields (XEP-0077 registration forms, password changes)
    (name === 'field' && (attrs.type === 'text-private' || /pass/i.test(attrs.var as string)));
  let marked = false;
  for (const child of el.children) {
    if (typeof child !== 'string') out.appendChild(copy(child, hide));
    else if (!hide) out.appendChild(child);
    else if (!marked && child.trim()) {
      // one marker for all the hidden text of an element
      out.appendChild(new Element('hidden', { xmlns: 'xmppkit' }));
      marked = true;
    }
  }
  return out;
}

/** A copy of `element` with SASL payloads, passwords and tokens replaced by `<hidden xmlns='xmppkit'/>` (attributes by `(hidden)`). The original is untouched. */
export const redact: (element: Element) => Element = copy;

export type Logger = (...args: unknown[]) => void;

export interface DebugHandle {
  readonly enabled: boolean;
  /** stop logging */
  stop(): void;
}

/** True when `XMPPKIT_DEBUG` is set in Node's environment. Never touches `process` where there is none. */
export function envEnabled(): boolean {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.XMPPKIT_DEBUG;
  return !!value && value !== '0' && value !== 'false';
}

/**
 * Log `IN`/`OUT` elements, status changes and errors of `entity`, with credentials redacted.
 * Enabled when `force` is true (browsers: call `debug(xmpp, true)`) or when `XMPPKIT_DEBUG` is set (Node).
 */
export function debug(entity: Connection, force = false, log: Logger = console.debug.bind(console)): DebugHandle {
  const enabled = force || envEnabled();
  const listeners: Record<string, (arg: never) => void> = enabled
    ? {
        element: (el: Element) => log('IN', `${redact(el)}`),
        send: (el: Element) => log('OUT', `${redact(el)}`),
        status: (status: string) => log('status', status),
        // `${name}: ${message}`
        error: (err: Error) => log('error', `${err}`),
      }
    : {};
  const each = (method: 'on' | 'off'): void => {
    for (const event in listeners) (entity as unknown as Record<typeof method, (event: string, listener: unknown) => void>)[method](event, listeners[event]);
  };
  each('on');
  return { enabled, stop: () => each('off') };
}
