import type { Element } from '@xmppkit/xml';
import type { TypedEmitter } from '@xmppkit/events';

/** Attributes of the stream header we send. */
export interface StreamHeader {
  to: string;
  version: string;
  from?: string;
  'xml:lang'?: string;
}

/** What a transport reports to the connection. */
export interface TransportEvents {
  /** the peer's stream header (`<open/>` or `<stream:stream>`) */
  header: [header: Element];
  /** a complete top-level element (stanza or nonza) */
  element: [element: Element];
  /** the peer closed the XML stream (`<close/>` or `</stream:stream>`) */
  streamEnd: [];
  /** the underlying socket closed; `clean` is false for errors and aborts */
  close: [clean: boolean, reason?: Error];
  /** malformed input (XMLError) or a socket error; the connection decides what follows */
  error: [error: Error];
  /** raw text received and sent, for debugging */
  input: [data: string];
  output: [data: string];
  /** the transport was told to use another endpoint (WebSocket `<close see-other-uri>`) */
  redirect: [service: string];
}

export interface TransportOptions {
  /** the service URL the transport was chosen for */
  service: string;
  /** largest stanza accepted before the stream is closed with policy-violation */
  maxStanzaSize: number;
}

/**
 * One connection attempt's byte pipe and framing. The connection core speaks only in elements;
 * WebSocket, TCP and BOSH each implement this interface and register a TransportFactory.
 */
export interface Transport extends TypedEmitter<TransportEvents> {
  /** true when the channel is encrypted (wss:, TLS) */
  readonly secure: boolean;
  /** true when the peer is on a loopback address */
  readonly loopback: boolean;
  /** open the socket; resolves once data can be written */
  connect(signal: AbortSignal): Promise<void>;
  /** send our stream header (also on a restart; the transport resets its parser) */
  openStream(header: StreamHeader): Promise<void>;
  /** send our end of the stream (`<close/>` or `</stream:stream>`) */
  closeStream(): Promise<void>;
  /** serialise and send one element */
  send(element: Element): Promise<void>;
  /** serialise and send several elements, in order, as few writes as the transport can */
  sendMany(elements: readonly Element[]): Promise<void>;
  /** send raw text */
  write(data: string): Promise<void>;
  /** close the socket gracefully; `close` follows */
  end(): void;
  /** drop the socket at once (no stream close); `close(false)` follows */
  destroy(reason?: Error): void;
}

export interface TransportFactory {
  readonly name: string;
  /** true when this transport can reach `service` (for example `ws:` or `wss:` URLs) */
  accepts(service: string): boolean;
  create(options: TransportOptions): Transport;
}
