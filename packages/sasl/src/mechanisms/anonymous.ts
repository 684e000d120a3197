/** ANONYMOUS (RFC 4505): no initial response, or an optional trace token. */
import { SASLError } from '@xmppkit/error';
import type { Mechanism, MechanismSession } from './types.js';

/** ANONYMOUS that sends `trace` (1 to 255 characters, for example an email address) as its message. */
export function anonymousWithTrace(trace?: string): Mechanism {
  const length = trace === undefined ? 0 : Array.from(trace).length;
  if (trace !== undefined && (length < 1 || length > 255 || trace.includes('\0'))) {
    throw new RangeError('the ANONYMOUS trace must be 1 to 255 characters without NUL');
  }
  const bytes = () => (trace === undefined ? new Uint8Array(0) : new TextEncoder().encode(trace));
  return {
    name: 'ANONYMOUS',
    create(): MechanismSession {
      let answered = false;
      return {
        async start() {
          answered = trace !== undefined;
          return answered ? bytes() : null;
        },
        // Without initial response the server sends an empty challenge; answer it with the trace.
        async challenge(data) {
          if (answered || data.length > 0) throw new SASLError('invalid-challenge', { text: 'unexpected ANONYMOUS challenge' });
          answered = true;
          return bytes();
        },
        async success() {},
      };
    },
  };
}

/** ANONYMOUS without trace: empty `<auth/>`. */
export const anonymous: Mechanism = anonymousWithTrace();
