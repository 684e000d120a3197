import type { Client } from '@xmppkit/client-core';
import { ConnectionError, SASLError, TimeoutError } from '@xmppkit/error';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { xml, type Element } from '@xmppkit/xml';
import { base64Decode, base64Encode } from './mechanisms/base64.js';
import { anonymous, plain, scramSha1, scramSha256, scramSha512 } from './mechanisms/index.js';
import { ScramCache, type Credentials, type Mechanism } from './mechanisms/types.js';

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

export const DEFAULT_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;
const BUILTIN: readonly Mechanism[] = [scramSha512, scramSha256, scramSha1, plain, anonymous];
/** Shared by every client that adds no mechanism of its own. */
const BUILTIN_BY_NAME: ReadonlyMap<string, Mechanism> = new Map(BUILTIN.map((m) => [m.name, m]));

/** Pick the mechanism to use from those the server offers. */
export function chooseMechanism(
  offered: readonly string[],
  options: { preferred: readonly string[]; anonymous: boolean; plainAllowed: boolean },
): string {
  if (options.anonymous) {
    if (offered.includes('ANONYMOUS')) return 'ANONYMOUS';
    throw new SASLError('no-mechanism', { text: `no credentials given and the server does not offer ANONYMOUS (it offers ${offered.join(', ') || 'nothing'})` });
  }
  for (const name of options.preferred) {
    if (!offered.includes(name) || name === 'ANONYMOUS') continue;
    if (name === 'PLAIN' && !options.plainAllowed) continue;
    return name;
  }
  const plainOnly = offered.includes('PLAIN') && !options.plainAllowed && options.preferred.includes('PLAIN');
  throw new SASLError('no-mechanism', {
    text: plainOnly
      ? 'the server offers only PLAIN over an unencrypted connection; use TLS (wss:) or set allowPlaintext'
      : `no common mechanism: the server offers ${offered.join(', ') || 'nothing'}, the client supports ${options.preferred.join(', ')}`,
  });
}

/**
 * SASL authentication (RFC 6120 section 6) as a stream feature. SCRAM runs on WebCrypto, verifies the
 * server signature, and caches its derived keys in this object so a reconnect does not redo PBKDF2.
 */
export function sasl({ streamFeatures, entity }: { streamFeatures: StreamFeatures; entity: Client }, options: SASLOptions = {}): SASL {
  const scramCache = new ScramCache();
  const implementations = options.implementations
    ? new Map([...BUILTIN_BY_NAME, ...options.implementations.map((m): [string, Mechanism] => [m.name, m])])
    : BUILTIN_BY_NAME;
  const preferred = options.mechanisms ?? DEFAULT_MECHANISMS;
  // Plain data properties (an object literal with a getter costs a few hundred bytes per client).
  const state: { mechanism: string | null; scramCache: ScramCache } = { mechanism: null, scramCache };

  /** The next SASL element from the server, or a rejection on timeout or disconnect. */
  const nextSASLElement = (): Promise<Element> =>
    new Promise<Element>((resolve, reject) => {
      const signal = entity.signal;
      const done = (): void => {
        clearTimeout(timer);
        entity.off('nonza', onNonza);
        signal.removeEventListener('abort', onAbort);
      };
      const onNonza = (el: Element): void => {
        if (el.attrs.xmlns !== NS_SASL) return;
        done();
        resolve(el);
      };
      const onAbort = (): void => {
        done();
        reject(signal.reason instanceof Error ? signal.reason : new ConnectionError('disconnected'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`no SASL answer within ${entity.options.timeout} ms`));
      }, entity.options.timeout);
      if (signal.aborted) return onAbort();
      entity.on('nonza', onNonza);
      signal.addEventListener('abort', onAbort, { once: true });
    });

  const exchange = async (mechanism: Mechanism, credentials: Credentials): Promise<void> => {
    const session = mechanism.create(credentials, { scramCache });
    const initial = await session.start();
    const answer = nextSASLElement();
    answer.catch(() => undefined);
    await entity.send(xml('auth', { xmlns: NS_SASL, mechanism: mechanism.name }, initial === null ? '' : initial.length === 0 ? '=' : base64Encode(initial)));
    let el = await answer;
    for (;;) {
      if (el.name === 'failure') throw SASLError.fromElement(el);
      if (el.name === 'success') {
        const text = el.text().trim();
        await session.success(text && text !== '=' ? base64Decode(text) : null);
        return;
      }
      if (el.name !== 'challenge') throw new SASLError('malformed-request', { text: `unexpected <${el.name}/> during authentication` });
      let response: Uint8Array;
      try {
        const data = el.text().trim();
        response = await session.challenge(data === '=' ? new Uint8Array(0) : base64Decode(data));
      } catch (err) {
        await entity.send(xml('abort', NS_SASL)).catch(() => undefined);
        throw err;
      }
      const next = nextSASLElement();
      next.catch(() => undefined);
      await entity.send(xml('response', NS_SASL, response.length === 0 ? '' : base64Encode(response)));
      el = await next;
    }
  };

  streamFeatures.use(
    'mechanisms',
    NS_SASL,
    async (_ctx, _next, feature) => {
      const offered = feature.getChildren('mechanism').map((m) => m.text().trim());
      const transport = entity.transport;
      const plainAllowed = options.allowPlaintext === true || transport?.secure === true || transport?.loopback === true;
      const creds = options.credentials;
      try {
        const name = chooseMechanism(offered, { preferred, anonymous: creds === undefined, plainAllowed });
        const mechanism = implementations.get(name);
        if (!mechanism) throw new SASLError('no-mechanism', { text: `no implementation of ${name}` });
        if (typeof creds === 'function') {
          let used = false;
          await creds(async (c) => {
            used = true;
            await exchange(mechanism, c);
          }, name);
          if (!used) throw new SASLError('not-authorized', { text: 'the credentials callback did not authenticate' });
        } else await exchange(mechanism, creds ?? {});
        state.mechanism = name;
      } catch (err) {
        entity.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      try {
        await entity.restart();
      } catch (err) {
        entity.fail(err instanceof Error ? err : new Error(String(err)));
      }
    },
    1000,
  );

  return state;
}
