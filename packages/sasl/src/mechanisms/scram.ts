/**
 * SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on WebCrypto,
 * without channel binding (GS2 header `n,,` or `n,a=authzid,`). The server signature
 * is always verified: `success()` rejects unless a valid `v=` was received.
 */
import { SASLError } from '@xmppkit/error';
import { base64Decode, base64Encode } from './base64.js';
import { prepare } from './saslprep.js';
import type { Mechanism, ScramKeyInputs, ScramKeys } from './types.js';

/** Iteration counts above this are refused (a hostile server could otherwise stall the client). */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

export type ScramHash = 'SHA-1' | 'SHA-256' | 'SHA-512';

type Bytes = Uint8Array<ArrayBuffer>;
const encoder = new TextEncoder();
const subtle = crypto.subtle;
const invalid = (text: string) => new SASLError('invalid-challenge', { text });
const mismatch = (text: string) => new SASLError('server-signature-mismatch', { text });

/** RFC 5802 saslname: `=` becomes `=3D` and `,` becomes `=2C`. */
export function escapeSaslname(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * A SCRAM message (UTF-8 `a=value,b=value`) and its attributes, the first occurrence winning.
 * A server error (`e=`) throws `not-authorized`.
 */
function parse(data: Uint8Array): [attributes: Record<string, string | undefined>, text: string] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw invalid('SCRAM message is not valid UTF-8');
  }
  const attributes: Record<string, string | undefined> = {};
  for (const part of text.split(',')) {
    if (!/^[A-Za-z]=/.test(part)) throw invalid(`malformed SCRAM attribute "${part}"`);
    attributes[part[0]!] ??= part.slice(2);
  }
  if (attributes.e !== undefined) throw new SASLError('not-authorized', { text: `server reported SCRAM error "${attributes.e}"` });
  return [attributes, text];
}

const scram = (hash: ScramHash, bits: number): Mechanism => {
  const hmac = async (key: Uint8Array, data: string): Promise<Bytes> =>
    new Uint8Array(await subtle.sign('HMAC', await subtle.importKey('raw', key as Bytes, { name: 'HMAC', hash }, false, ['sign']), encoder.encode(data)));
  return {
    name: `SCRAM-${hash}`,
    create(credentials, { scramCache, nonce }) {
      /** 0 initial, 1 client-first sent, 2 client-final sent, 3 server signature verified, 4 done, 5 failed */
      let state = 0;
      let password: string;
      let gs2Header: string;
      let clientNonce: string;
      let clientFirstBare: string;
      let serverSignature: Uint8Array;
      let pending: [key: string, keys: ScramKeys];

      /** Enter a step allowed in this state, returning the state; the session counts as failed until the step ends well. */
      const enter = (allowed: boolean): number => {
        if (!allowed) throw invalid('unexpected SCRAM step');
        const from = state;
        state = 5;
        return from;
      };

      /** Check a server-final-message; on success the derived keys go to the cache. */
      const verify = (data: Uint8Array | null): void => {
        if (data?.length) {
          const { v } = parse(data)[0];
          try {
            const signature = base64Decode(v ?? '');
            // constant time: depends only on the length
            if (signature.length == serverSignature.length && !signature.reduce((diff, b, i) => diff | (b ^ serverSignature[i]!), 0)) {
              return scramCache.set(...pending);
            }
          } catch {}
        }
        throw mismatch('server signature (v=) missing or does not match');
      };

      return {
        async start() {
          enter(!state);
          const [user, pass] = prepare(credentials);
          const authzid = credentials.authzid;
          password = pass;
          clientNonce = nonce ?? base64Encode(crypto.getRandomValues(new Uint8Array(24)));
          gs2Header = authzid ? `n,a=${escapeSaslname(authzid)},` : 'n,,';
          clientFirstBare = `n=${escapeSaslname(user)},r=${clientNonce}`;
          state = 1;
          return encoder.encode(gs2Header + clientFirstBare);
        },

        async challenge(data) {
          // Some servers send the server-final-message as a challenge, then an empty <success/>.
          if (enter(state > 0 && state < 3) > 1) {
            verify(data);
            state = 3;
            return new Uint8Array(0);
          }
          const [{ m, r = '', s, i = '' }, serverFirst] = parse(data);
          if (m !== undefined) throw invalid('unsupported SCRAM extension (m=)');
          if (!(r.length > clientNonce.length && r.startsWith(clientNonce) && /^[!-~]+$/.test(r))) {
            throw invalid('server nonce does not extend the client nonce');
          }
          let salt: Bytes | undefined;
          try {
            salt = base64Decode(s ?? '');
          } catch {}
          if (!salt?.length) throw invalid('missing or invalid salt (s=)');
          const iterations = /^\d+$/.test(i) ? +i : 0;
          if (!(iterations > 0 && iterations <= MAX_SCRAM_ITERATIONS)) {
            throw invalid(`iteration count (i=) "${i}" is not between 1 and ${MAX_SCRAM_ITERATIONS}`);
          }

          const pass = encoder.encode(password);
          const key = await scramCache.key({ hash, salt, iterations, password: pass });
          let keys = scramCache.get(key);
          if (!keys) {
            // SaltedPassword = Hi(password, salt, i) is PBKDF2
            const base = await subtle.importKey('raw', pass, 'PBKDF2', false, ['deriveBits']);
            const salted = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', salt, iterations, hash }, base, bits));
            keys = { clientKey: await hmac(salted, 'Client Key'), serverKey: await hmac(salted, 'Server Key') };
            salted.fill(0);
          }
          pass.fill(0);
          pending = [key, keys];

          const withoutProof = `c=${base64Encode(encoder.encode(gs2Header))},r=${r}`;
          const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
          const { clientKey } = keys;
          const clientSignature = await hmac(new Uint8Array(await subtle.digest(hash, clientKey as Bytes)), authMessage);
          serverSignature = await hmac(keys.serverKey, authMessage);
          state = 2;
          return encoder.encode(`${withoutProof},p=${base64Encode(clientKey.map((b, i) => b ^ clientSignature[i]!))}`);
        },

        async success(data) {
          const from = enter(state < 4);
          if (from < 2) throw mismatch('server reported success before the SCRAM exchange completed');
          if (from < 3 || data?.length) verify(data);
          state = 4;
        },
      };
    },
  };
};

export const scramSha1: Mechanism = scram('SHA-1', 160);
export const scramSha256: Mechanism = scram('SHA-256', 256);
export const scramSha512: Mechanism = scram('SHA-512', 512);

/** Random bytes mixed into cache keys, so a key string in memory is no plain hash of the password (one per process). */
let pepper: Uint8Array | undefined;

/**
 * Derived SCRAM keys, keyed by hash name, salt (base64), iteration count and a
 * SHA-256 digest of the password, so that a reconnect to the same server skips PBKDF2.
 * The password itself is never stored: the digest is SHA-256(random per-process pepper ‖ password).
 * The oldest entries are dropped beyond `maxEntries`.
 */
export class ScramCache {
  readonly #entries = new Map<string, ScramKeys>();
  readonly maxEntries: number;

  constructor(maxEntries = 8) {
    this.maxEntries = maxEntries;
  }

  /** The cache key for these inputs. */
  async key({ hash, salt, iterations, password }: ScramKeyInputs): Promise<string> {
    const input = new Uint8Array([...(pepper ??= crypto.getRandomValues(new Uint8Array(16))), ...password]);
    const digest = new Uint8Array(await subtle.digest('SHA-256', input));
    input.fill(0);
    return `${hash}|${base64Encode(salt)}|${iterations}|${base64Encode(digest)}`;
  }

  get(key: string): ScramKeys | undefined {
    return this.#entries.get(key);
  }

  set(key: string, { clientKey, serverKey }: ScramKeys): void {
    const entries = this.#entries;
    entries.delete(key);
    entries.set(key, { clientKey: clientKey.slice(), serverKey: serverKey.slice() });
    while (entries.size > this.maxEntries) entries.delete(entries.keys().next().value!);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

