import { Client } from '@xmppkit/client-core';
import type { TransportFactory } from '@xmppkit/connection';
import { debug } from '@xmppkit/debug';
import { ConnectionError } from '@xmppkit/error';
import { iqCallee, iqCaller, pingResponder, type IQCallee, type IQCaller } from '@xmppkit/iq';
import { middleware, type MiddlewareManager } from '@xmppkit/middleware';
import { resourceBinding, type Resource, type ResourceBinding } from '@xmppkit/resource-binding';
import { sasl, type Credentials, type CredentialsCallback, type SASL } from '@xmppkit/sasl';
import { streamFeatures, type StreamFeatures } from '@xmppkit/stream-features';
import { websocket } from '@xmppkit/websocket';
import { reconnect, type Reconnect, type ReconnectOptions } from '@xmppkit/reconnect';
import { streamManagement, type StreamManagement, type StreamManagementOptions } from '@xmppkit/stream-management';

export interface ClientOptions {
  /** where to connect: `ws://` or `wss://` URL of the server's WebSocket endpoint */
  service: string;
  /** the XMPP domain (default: the domain of `username` when it is a JID, else the service's host name) */
  domain?: string;
  /** the account's localpart, or a bare JID */
  username?: string;
  password?: string;
  /** custom authentication: call `authenticate({ username, password })` for the chosen mechanism */
  credentials?: CredentialsCallback;
  /** resource to bind, or a function (possibly async) returning one; default: the server chooses */
  resource?: Resource;
  /** the stream's `xml:lang` */
  lang?: string;
  /** deadline in ms for connecting, each negotiation step and closing (default 10 000) */
  timeout?: number;
  /** largest stanza accepted from the server (default 1 MiB); past it the stream is closed with policy-violation */
  maxStanzaSize?: number;
  /** SASL mechanisms, most preferred first; allow PLAIN over unencrypted non-loopback links */
  sasl?: { mechanisms?: readonly string[]; allowPlaintext?: boolean };
  /** transports to choose from (default: WebSocket) */
  transports?: TransportFactory[];
  /** log traffic with credentials redacted: true forces it on (browsers), false off; default: on when XMPPKIT_DEBUG is set in Node */
  debug?: boolean;
  /** Stream Management (XEP-0198), on by default; `{ enabled: false }` turns it off */
  streamManagement?: StreamManagementOptions;
  /** reconnection with backoff, on by default; `false` turns it off */
  reconnect?: ReconnectOptions | false;
}

/** One stateless WebSocket factory shared by every client that names no transport. */
const DEFAULT_WEBSOCKET: TransportFactory = websocket();

/** The object `client()` returns: a Client with its parts attached. Every property is defined. */
export class XMPPClient extends Client {
  declare readonly middleware: MiddlewareManager;
  declare readonly streamFeatures: StreamFeatures;
  declare readonly iqCaller: IQCaller;
  declare readonly iqCallee: IQCallee;
  declare readonly sasl: SASL;
  declare readonly resourceBinding: ResourceBinding;
  declare readonly streamManagement: StreamManagement;
  declare readonly reconnect: Reconnect;

  constructor(options: ClientOptions) {
    // Only the options the core knows; `maxRedirects` is not a client() option, so it stays at its default of 3.
    super({ ...options, maxRedirects: 3, transports: options.transports ?? [DEFAULT_WEBSOCKET] });
    const entity: XMPPClient = this;
    // One object for every part's dependencies, filled in as the parts are made (each takes what it needs).
    const parts = { entity } as { entity: XMPPClient; middleware: MiddlewareManager; streamFeatures: StreamFeatures; iqCaller: IQCaller };
    this.middleware = parts.middleware = middleware(parts);
    this.streamFeatures = parts.streamFeatures = streamFeatures(parts);
    // Replies to requests in flight arrive on a resumed session, so they keep waiting across a resumption.
    const caller = (this.iqCaller = parts.iqCaller = iqCaller(parts, { keepOnDisconnect: () => sm.canResume }));
    pingResponder((this.iqCallee = iqCallee(parts)));
    const { password } = options;
    const credentials: Credentials | CredentialsCallback | undefined =
      options.credentials || (options.username !== undefined || password !== undefined ? { username: this.username ?? '', password: password ?? '' } : undefined);
    // `sasl` holds mechanisms and allowPlaintext; credentials come last so they always win
    this.sasl = sasl(parts, { ...options.sasl, credentials });
    this.resourceBinding = resourceBinding(parts, options.resource);
    const sm = (this.streamManagement = streamManagement(parts, options.streamManagement));
    const noReply = (text: string, cause?: unknown): void => caller.rejectAll(new ConnectionError('disconnected', { text, cause }));
    sm.on('resumeFailed', (err) => noReply('session could not be resumed', err));
    this.stopHooks.push(() => noReply('client stopped'));
    this.reconnect = reconnect(entity, options.reconnect || {}, () => [sm.preferredService(entity.service), entity.service, entity.initialService]);
    if (options.reconnect === false) this.reconnect.stop();
    if (options.debug !== false) debug(entity, options.debug === true);
  }
}

/**
 * Create an XMPP client.
 *
 * ```js
 * import { client, xml } from '@xmppkit/client';
 * const xmpp = client({ service: 'wss://example.org/xmpp-websocket', username: 'alice', password: 'secret' });
 * xmpp.on('stanza', (stanza) => console.log(stanza.toString()));
 * await xmpp.start();
 * await xmpp.send(xml('presence'));
 * ```
 */
export function client(options: ClientOptions): XMPPClient {
  return new XMPPClient(options);
}

export { xml, Element, parse, XMLError } from '@xmppkit/xml';
export { jid, JID } from '@xmppkit/jid';
export { XMPPError, StreamError, StanzaError, SASLError, TimeoutError, AbortError, ConnectionError } from '@xmppkit/error';
export type { Status, ConnectionEvents, DisconnectInfo, CloseInfo, TransportFactory } from '@xmppkit/connection';
export type { Credentials, CredentialsCallback } from '@xmppkit/sasl';
export type { Resource } from '@xmppkit/resource-binding';
export type { Context, Middleware } from '@xmppkit/middleware';
export { Client } from '@xmppkit/client-core';
export { StreamManagementError, memoryStore, webStorageStore, type StreamManagementStore, type StreamManagementState, type StreamManagementOptions, type StreamManagementCondition, type StreamManagementEvents } from '@xmppkit/stream-management';
export type { ReconnectOptions, ReconnectEvents } from '@xmppkit/reconnect';
