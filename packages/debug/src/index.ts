import type { Connection } from '@xmppkit/connection';
import { Element } from '@xmppkit/xml';

const HIDDEN_ATTR = '(hidden)';
const hiddenElement = (): Element => new Element('hidden', { xmlns: 'xmppkit' });
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SASL2 = 'urn:xmpp:sasl:2';
const SASL_PAYLOADS = new Set(['auth', 'challenge', 'response', 'success', 'initial-response', 'additional-data']);
/** attributes whose values are secrets wherever they appear */
const SECRET_ATTRS = new Set(['token', 'password']);
/** elements whose text is a secret wherever they appear (jabber:iq:register, jabber:iq:auth, FAST, custom) */
const SECRET_ELEMENTS = new Set(['password', 'digest', 'token', 'initial-response', 'additional-data']);

/** A copy of `element` with SASL payloads, passwords and tokens replaced by `<hidden xmlns='xmppkit'/>` (attributes by `(hidden)`). The original is untouched. */
export function redact(element: Element): Element {
  return copy(element, false);
}

function copy(el: Element, hideText: boolean): Element {
  const out = new Element(el.name);
  for (const key in el.attrs) {
    const value = el.attrs[key];
    if (value === undefined) continue;
    out.attrs[key] = SECRET_ATTRS.has(key) ? HIDDEN_ATTR : value;
  }
  const xmlns = el.attrs.xmlns;
  const hide =
    hideText ||
    SECRET_ELEMENTS.has(el.name) ||
    ((xmlns === NS_SASL || xmlns === NS_SASL2) && SASL_PAYLOADS.has(el.name)) ||
    // XEP-0004 data forms: password fields (XEP-0077 registration forms, password changes)
    (el.name === 'field' && (el.attrs.type === 'text-private' || /pass/i.test(el.attrs.var ?? '')));
  let hidden = false;
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (!hide) out.children.push(child);
      else if (!hidden && child.trim() !== '') {
        out.appendChild(hiddenElement());
        hidden = true;
      }
    } else out.appendChild(copy(child, hide));
  }
  return out;
}

export type Logger = (...args: unknown[]) => void;

export interface DebugHandle {
  readonly enabled: boolean;
  /** stop logging */
  stop(): void;
}

/** True when `XMPPKIT_DEBUG` is set in Node's environment. Never touches `process` where there is none. */
export function envEnabled(): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.XMPPKIT_DEBUG;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Log `IN`/`OUT` elements, status changes and errors of `entity`, with credentials redacted.
 * Enabled when `force` is true (browsers: call `debug(xmpp, true)`) or when `XMPPKIT_DEBUG` is set (Node).
 */
export function debug(entity: Connection, force = false, log: Logger = console.debug.bind(console)): DebugHandle {
  if (!force && !envEnabled()) return { enabled: false, stop: () => undefined };
  const onIn = (el: Element): void => log('IN', redact(el).toString());
  const onOut = (el: Element): void => log('OUT', redact(el).toString());
  const onStatus = (status: string): void => log('status', status);
  const onError = (err: Error): void => log('error', `${err.name}: ${err.message}`);
  entity.on('element', onIn);
  entity.on('send', onOut);
  entity.on('status', onStatus);
  entity.on('error', onError);
  return {
    enabled: true,
    stop() {
      entity.off('element', onIn);
      entity.off('send', onOut);
      entity.off('status', onStatus);
      entity.off('error', onError);
    },
  };
}
