import type { TransportFactory } from '@xmppkit/connection';
import { ConnectionError } from '@xmppkit/error';
import { websocketFactory, type WebSocketConstructor, type WebSocketOptions } from './transport.js';

export { WebSocketTransport, websocketFactory, NS_FRAMING, type WebSocketLike, type WebSocketConstructor, type WebSocketOptions } from './transport.js';

/** The WebSocket transport on the platform's global `WebSocket` (browsers, Deno, Node 22+). */
export function websocket(options?: WebSocketOptions): TransportFactory {
  const WebSocketImpl = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) throw new ConnectionError('no-transport', { text: 'no global WebSocket' });
  return websocketFactory(WebSocketImpl, options);
}
