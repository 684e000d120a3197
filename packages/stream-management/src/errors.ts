import { XMPPError, type XMPPErrorOptions } from '@xmppkit/error';

/**
 * Why a stanza is reported failed, or why `sendAcked()` rejected.
 * - `not-enabled`: stream management is off or was refused, so no acknowledgement can come
 * - `resume-failed`: the session could not be resumed (see `cause`/`text` for the server's condition)
 * - `not-resumable`: the link dropped and the session did not allow resumption
 * - `stopped`: `stop()` ended the session before the server acknowledged it
 * - `stream-error`: the server ended the session with a stream error
 * - `handled-count-too-high`: the server acknowledged more than we sent
 * - `queue-full`: the unacknowledged queue reached `maxQueue`; the stanza was not sent
 * - `dropped`: an outgoing filter dropped it
 */
export type StreamManagementCondition =
  | 'not-enabled'
  | 'resume-failed'
  | 'not-resumable'
  | 'stopped'
  | 'stream-error'
  | 'handled-count-too-high'
  | 'queue-full'
  | 'dropped';

// XMPPError's own constructor, typed to take only these conditions (no constructor of our own to ship).
export class StreamManagementError extends (XMPPError as new (condition: StreamManagementCondition, options?: XMPPErrorOptions) => XMPPError) {
  override name = 'StreamManagementError';
  declare readonly condition: StreamManagementCondition;
}
