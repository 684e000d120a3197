/** ANONYMOUS (RFC 4505): no initial response, or an optional trace token. */
import { oneMessage } from './plain.js';
import type { Mechanism } from './types.js';
import { utf8 } from './util.js';

/** ANONYMOUS that sends `trace` (1 to 255 characters, for example an email address) as its message. */
export function anonymousWithTrace(trace?: string): Mechanism {
  if (trace !== undefined && !/^[^\0]{1,255}$/u.test(trace)) throw new RangeError('the ANONYMOUS trace must be 1 to 255 characters without NUL');
  return oneMessage('ANONYMOUS', trace !== undefined, () => utf8(trace ?? ''));
}

/** ANONYMOUS without trace: empty `<auth/>`. */
export const anonymous: Mechanism = anonymousWithTrace();
