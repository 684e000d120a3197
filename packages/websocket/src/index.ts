import type { TransportFactory } from '@xmppkit/connection';
import WebSocket from 'ws';
import { websocketFactory, type WebSocketConstructor, type WebSocketOptions } from './transport.js';

export { WebSocketTransport, websocketFactory, NS_FRAMING, type WebSocketLike, type WebSocketConstructor, type WebSocketOptions } from './transport.js';

/** The WebSocket transport for Node.js (on `ws`); bundlers for browsers pick `browser.js` instead. */
export function websocket(options?: WebSocketOptions): TransportFactory {
  return websocketFactory(WebSocket as unknown as WebSocketConstructor, options);
}
