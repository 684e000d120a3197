/** PLAIN (RFC 4616): `authzid NUL authcid NUL passwd`, UTF-8, username and password SASLprepped. */
import { SASLError } from '@xmppkit/error';
import { saslprep } from './saslprep.js';
import type { Credentials, Mechanism, MechanismSession } from './types.js';

function message({ username, password, authzid = '' }: Credentials): Uint8Array {
  const user = saslprep(username ?? '', { allowUnassigned: true, field: 'username' });
  if (!user) throw new SASLError('invalid-username', { text: 'username is required' });
  const pass = saslprep(password ?? '', { allowUnassigned: true, field: 'password' });
  if (!pass) throw new SASLError('invalid-password', { text: 'password is required' });
  if (authzid.includes('\0')) throw new SASLError('invalid-authzid', { text: 'authzid contains a prohibited character (U+0000)' });
  return new TextEncoder().encode(`${authzid}\0${user}\0${pass}`);
}

export const plain: Mechanism = {
  name: 'PLAIN',
  create(credentials): MechanismSession {
    let answered = false;
    return {
      async start() {
        answered = true;
        return message(credentials);
      },
      // Only an empty challenge (a server that ignored the initial response) is answered, once.
      async challenge(data) {
        if (answered || data.length > 0) throw new SASLError('invalid-challenge', { text: 'unexpected PLAIN challenge' });
        answered = true;
        return message(credentials);
      },
      async success() {},
    };
  },
};
