/** PLAIN (RFC 4616): `authzid NUL authcid NUL passwd`, UTF-8, username and password SASLprepped. */
import { fail, prepare } from './saslprep.js';
import type { Credentials, Mechanism } from './types.js';
import { saslError, utf8 } from './util.js';

/**
 * A mechanism of one message: sent as initial response (`initial`), or else in answer to the
 * empty challenge of the server; any other challenge fails.
 */
export const oneMessage = (name: string, initial: boolean, message: (credentials: Credentials) => Uint8Array): Mechanism => ({
  name,
  create(credentials) {
    let answered = false;
    return {
      async start() {
        return (answered = initial) ? message(credentials) : null;
      },
      async challenge(data) {
        if (answered || data.length) throw saslError('invalid-challenge', `unexpected ${name} challenge`);
        answered = true;
        return message(credentials);
      },
      async success() {},
    };
  },
});

export const plain: Mechanism = oneMessage('PLAIN', true, (credentials) => {
  const [user, pass] = prepare(credentials);
  const authzid = credentials.authzid ?? '';
  if (authzid.includes('\0')) fail('authzid', 'contains a prohibited character (U+0000)');
  return utf8(`${authzid}\0${user}\0${pass}`);
});
