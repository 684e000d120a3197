export { Connection, seeOtherHost, NS_STREAMS, NS_STREAM_ERRORS, type ConnectionEvents, type ConnectionOptions, type CloseInfo, type DisconnectInfo, type OutgoingHook, type WriteElement } from './Connection.js';
export { transitions, canTransition, type Status } from './status.js';
export type { Transport, TransportEvents, TransportFactory, TransportOptions, StreamHeader } from './transport.js';
