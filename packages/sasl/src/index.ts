import type { Client } from '@xmppkit/client-core';
import { SASLError, toError } from '@xmppkit/error';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { xml, type Element } from '@xmppkit/xml';
import { anonymous, plain, scramSha1, scramSha256, scramSha512 } from './mechanisms/index.js';
import { ScramCache } from './mechanisms/scram.js';
import type { Credentials, Mechanism } from './mechanisms/types.js';
import { base64Decode, base64Encode, saslError } from './mechanisms/util.js';

export * from './mechanisms/index.js';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** Call `authenticate` with the credentials to use for `mechanism` (for tokens, prompts, key stores...). */
export type CredentialsCallback = (authenticate: (credentials: Credentials) => Promise<void>, mechanism: string) => Promise<void>;

export interface SASLOptions {
  /** the credentials, or a callback that supplies them; none means ANONYMOUS */
  credentials?: Credentials | CredentialsCallback;
  /** mechanisms to use, most preferred first (default SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN) */
  mechanisms?: readonly string[];
  /** allow PLAIN over an unencrypted link to a non-loopback host (default false) */
  allowPlaintext?: boolean;
  /** extra mechanism implementations (by name) */
  implementations?: readonly Mechanism[];
}

export interface SASL {
  /** the mechanism used by the last successful authentication */
  readonly mechanism: string | null;
  /** derived SCRAM keys of this client, so a reconnect or resume skips PBKDF2 */
  readonly scramCache: ScramCache;
}

const BUILTIN = [scramSha512, scramSha256, scramSha1, plain, anonymous];
export const DEFAULT_MECHANISMS = BUILTIN.slice(0, 4).map((m) => m.name) as readonly string[] as readonly ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

/** Pick the mechanism to use from those the server offers. */
export function chooseMechanism(
  offered: readonly string[],
  { preferred, anonymous, plainAllowed }: { preferred: readonly string[]; anonymous: boolean; plainAllowed: boolean },
): string {
  const name = anonymous ? offered.includes('ANONYMOUS') && 'ANONYMOUS' : preferred.find((n) => offered.includes(n) && n != 'ANONYMOUS' && (plainAllowed || n != 'PLAIN'));
  if (name) return name;
  throw saslError(
    'no-mechanism',
    !anonymous && offered.includes('PLAIN') && preferred.includes('PLAIN')
      ? 'only PLAIN over an unencrypted connection'
      : `no common mechanism (server: ${offered.join(', ') || 'none'}; client: ${anonymous ? 'ANONYMOUS, no credentials' : preferred.join(', ')})`,
  );
}

/**
 * SASL authentication (RFC 6120 section 6) as a stream feature. SCRAM runs on WebCrypto, verifies the
 * server signature, and caches its derived keys in this object so a reconnect does not redo PBKDF2.
 */
export function sasl({ streamFeatures, entity }: { streamFeatures: StreamFeatures; entity: Client }, options: SASLOptions = {}): SASL {
  const scramCache = new ScramCache();
  const preferred = options.mechanisms ?? DEFAULT_MECHANISMS;
  // Plain data properties (an object literal with a getter costs a few hundred bytes per client).
  const state: { mechanism: string | null; scramCache: ScramCache } = { mechanism: null, scramCache };

  const exchange = async (mechanism: Mechanism, credentials: Credentials): Promise<void> => {
    const session = mechanism.create(credentials, { scramCache });
    const signal = entity.signal;
    /** how to settle the wait for the server's next SASL element */
    let settle: [resolve: (el: Element) => void, reject: (reason: unknown) => void] | undefined;
    const onNonza = (el: Element): void => void (el.attrs.xmlns === NS_SASL && settle?.[0](el));
    const onAbort = (): void => settle?.[1](signal.reason);
    entity.on('nonza', onNonza);
    signal.addEventListener('abort', onAbort);
    try {
      const initial = await session.start();
      // an empty initial response is sent as "=" (RFC 6120 section 6.4.2)
      let out = xml('auth', { xmlns: NS_SASL, mechanism: mechanism.name }, initial ? base64Encode(initial) || '=' : '');
      for (;;) {
        // send, then wait for the server's next SASL element (rejects when the connection goes away)
        const [el] = await Promise.all([
          new Promise<Element>((...resolvers) => {
            settle = resolvers;
            if (signal.aborted) onAbort();
          }),
          entity.send(out),
        ]);
        const { name } = el;
        const text = el.text().trim();
        // "=" is an empty payload, as opposed to none
        const data = text == '=' ? '' : text;
        if (name == 'success') return await session.success(data ? base64Decode(data) : null);
        if (name == 'failure') throw SASLError.fromElement(el);
        if (name != 'challenge') throw saslError('malformed-request', `unexpected <${name}/>`);
        try {
          out = xml('response', NS_SASL, base64Encode(await session.challenge(base64Decode(data))));
        } catch (err) {
          await entity.send(xml('abort', NS_SASL)).catch(() => undefined);
          throw err;
        }
      }
    } finally {
      entity.off('nonza', onNonza);
      signal.removeEventListener('abort', onAbort);
    }
  };

  streamFeatures.use(
    'mechanisms',
    NS_SASL,
    async (_ctx, _next, feature) => {
      const transport = entity.transport;
      const creds = options.credentials;
      try {
        const name = chooseMechanism(
          feature.getChildren('mechanism').map((m) => m.text().trim()),
          { preferred, anonymous: !creds, plainAllowed: !!(options.allowPlaintext || transport?.secure || transport?.loopback) },
        );
        // the last implementation of that name: options.implementations override the built-in ones
        const mechanism = [...BUILTIN, ...(options.implementations ?? [])].filter((m) => m.name == name).pop();
        if (!mechanism) throw saslError('no-mechanism', `no implementation of ${name}`);
        let used = false;
        const authenticate = (credentials: Credentials): Promise<void> => {
          used = true;
          return exchange(mechanism, credentials);
        };
        await (typeof creds == 'function' ? creds(authenticate, name) : authenticate(creds ?? {}));
        if (!used) throw saslError('not-authorized', 'credentials callback did not authenticate');
        state.mechanism = name;
        await entity.restart();
      } catch (err) {
        entity.fail(toError(err));
      }
    },
    1000,
  );

  return state;
}
