import { Client, type ClientCoreOptions } from '@xmppkit/client-core';
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
  readonly middleware: MiddlewareManager;
  readonly streamFeatures: StreamFeatures;
  readonly iqCaller: IQCaller;
  readonly iqCallee: IQCallee;
  readonly sasl: SASL;
  readonly resourceBinding: ResourceBinding;
  readonly streamManagement: StreamManagement;
  readonly reconnect: Reconnect;

  constructor(options: ClientOptions) {
    const coreOptions: ClientCoreOptions = {
      service: options.service,
      transports: options.transports ?? [DEFAULT_WEBSOCKET],
    };
    if (options.domain !== undefined) coreOptions.domain = options.domain;
    if (options.username !== undefined) coreOptions.username = options.username;
    if (options.lang !== undefined) coreOptions.lang = options.lang;
    if (options.timeout !== undefined) coreOptions.timeout = options.timeout;
    if (options.maxStanzaSize !== undefined) coreOptions.maxStanzaSize = options.maxStanzaSize;
    super(coreOptions);
    const entity = this;
    this.middleware = middleware({ entity });
    this.streamFeatures = streamFeatures({ middleware: this.middleware, entity });
    // Replies to requests in flight arrive on a resumed session, so they keep waiting across a resumption.
    this.iqCaller = iqCaller({ entity, middleware: this.middleware }, { keepOnDisconnect: () => this.streamManagement.canResume });
    this.iqCallee = iqCallee({ entity, middleware: this.middleware });
    pingResponder(this.iqCallee);
    let credentials: Credentials | CredentialsCallback | undefined = options.credentials;
    if (!credentials && (options.username !== undefined || options.password !== undefined)) {
      credentials = { username: this.username ?? '', password: options.password ?? '' };
    }
    this.sasl = sasl(
      { streamFeatures: this.streamFeatures, entity },
      { credentials, mechanisms: options.sasl?.mechanisms, allowPlaintext: options.sasl?.allowPlaintext },
    );
    this.resourceBinding = resourceBinding({ streamFeatures: this.streamFeatures, iqCaller: this.iqCaller, entity }, options.resource);
    this.streamManagement = streamManagement({ entity, streamFeatures: this.streamFeatures }, options.streamManagement);
    const sm = this.streamManagement;
    const noReply = (text: string, cause?: unknown): ConnectionError => new ConnectionError('disconnected', { text, cause });
    sm.on('resumeFailed', (err) => this.iqCaller.rejectAll(noReply('the session could not be resumed, so the reply will not come', err)));
    this.stopHooks.push(() => this.iqCaller.rejectAll(noReply('the client stopped before the reply')));
    this.reconnect = reconnect(entity, options.reconnect || {}, () => [sm.preferredService(entity.service), entity.service, entity.initialService]);
    if (options.reconnect === false) this.reconnect.stop();
    if (options.debug !== false) debug(this, options.debug === true);
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
