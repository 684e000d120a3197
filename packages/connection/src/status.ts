/**
 * The states of a connection, in the order a session goes through them:
 * `offline → connecting → connect → opening → open → online → closing → close → disconnecting → disconnect → offline`.
 */
export type Status =
  | 'offline'
  | 'connecting'
  | 'connect'
  | 'opening'
  | 'open'
  | 'online'
  | 'closing'
  | 'close'
  | 'disconnecting'
  | 'disconnect';

/**
 * Every allowed transition, in one table. A transition not listed here is a bug and throws.
 * `disconnect` is reachable from every live state because a socket can die at any time;
 * `open → opening` is a stream restart (after SASL).
 */
export const transitions: { readonly [S in Status]: readonly Status[] } = {
  offline: ['connecting'],
  connecting: ['connect', 'disconnecting', 'disconnect'],
  connect: ['opening', 'close', 'closing', 'disconnecting', 'disconnect'],
  opening: ['open', 'close', 'closing', 'disconnecting', 'disconnect'],
  open: ['opening', 'online', 'close', 'closing', 'disconnecting', 'disconnect'],
  online: ['close', 'closing', 'disconnecting', 'disconnect'],
  closing: ['close', 'disconnecting', 'disconnect'],
  close: ['disconnecting', 'disconnect'],
  disconnecting: ['disconnect'],
  disconnect: ['offline', 'connecting'],
};

export function canTransition(from: Status, to: Status): boolean {
  return transitions[from].includes(to);
}
