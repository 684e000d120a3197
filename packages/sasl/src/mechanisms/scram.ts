/**
 * SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on WebCrypto,
 * without channel binding (GS2 header `n,,` or `n,a=authzid,`). The server signature
 * is always verified: `success()` rejects unless a valid `v=` was received.
 */
import { prepare } from './saslprep.js';
import type { Mechanism, ScramKeyInputs, ScramKeys } from './types.js';
import { base64Encode, fromBase64, saslError, utf8 } from './util.js';

/** Iteration counts above this are refused (a hostile server could otherwise stall the client). */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

export type ScramHash = 'SHA-1' | 'SHA-256' | 'SHA-512';

const subtle = crypto.subtle;
/** Throw `SASLError('invalid-challenge')` with `text` unless `ok`. */
const check: (ok: unknown, text: string) => asserts ok = (ok, text) => {
  if (!ok) throw saslError('invalid-challenge', text);
};
const mismatch = (text: string) => saslError('server-signature-mismatch', text);

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
    throw saslError('invalid-challenge', 'not UTF-8');
  }
  const attributes: Record<string, string | undefined> = {};
  for (const part of text.split(',')) {
    check(/^[A-Za-z]=/.test(part), `malformed attribute "${part}"`);
    attributes[part[0]!] ??= part.slice(2);
  }
  if (attributes.e !== undefined) throw saslError('not-authorized', `server error "${attributes.e}"`);
  return [attributes, text];
}

const scram = (hash: ScramHash, bits: number): Mechanism => {
  const hmac = async (key: BufferSource, data: string): Promise<Uint8Array<ArrayBuffer>> =>
    new Uint8Array(await subtle.sign('HMAC', await subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']), utf8(data)));
  return {
    name: `SCRAM-${hash}`,
    create(credentials, { scramCache, nonce }) {
      /** 0 initial, 1 client-first sent, 2 client-final sent, 3 server signature verified, 4 done, 5 failed */
      let state = 0;
      let password: string;
      let gs2Header: string;
      let clientNonce: string;
      let clientFirstBare: string;
      /** base64, as `v=` carries it */
      let serverSignature: string;
      let pending: [key: string, keys: ScramKeys];

      /** Enter a step allowed in this state, returning the state; the session counts as failed until the step ends well. */
      const enter = (allowed: boolean): number => {
        check(allowed, 'unexpected SCRAM step');
        const from = state;
        state = 5;
        return from;
      };

      /**
       * Check a server-final-message; on success the derived keys go to the cache. A plain comparison
       * is enough: the expected signature is new in every exchange, and one mismatch ends it.
       */
      const verify = (data: Uint8Array | null): void => {
        if (!data?.length || parse(data)[0].v !== serverSignature) throw mismatch('bad server signature (v=)');
        scramCache.set(...pending);
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
          return utf8(gs2Header + clientFirstBare);
        },

        async challenge(data) {
          // Some servers send the server-final-message as a challenge, then an empty <success/>.
          if (enter(state > 0 && state < 3) > 1) {
            verify(data);
            state = 3;
            return new Uint8Array();
          }
          const [{ m, r = '', s = '', i = '' }, serverFirst] = parse(data);
          check(m === undefined, 'unsupported extension (m=)');
          // the server's nonce is ours followed by its own printable characters (RFC 5802 section 5.1)
          check(r.length > clientNonce.length && r.startsWith(clientNonce) && /^[!-~]+$/.test(r), 'bad nonce (r=)');
          const salt = fromBase64(s);
          check(salt?.length, 'bad salt (s=)');
          // RFC 5802 posit-number: no leading zero
          const iterations = /^[1-9]\d*$/.test(i) ? +i : 0;
          check(iterations && iterations <= MAX_SCRAM_ITERATIONS, `iteration count (i=) "${i}" not in 1..${MAX_SCRAM_ITERATIONS}`);

          const pass = utf8(password);
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

          const withoutProof = `c=${base64Encode(utf8(gs2Header))},r=${r}`;
          const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
          const { clientKey, serverKey } = keys;
          const clientSignature = await hmac(await subtle.digest(hash, clientKey as Uint8Array<ArrayBuffer>), authMessage);
          serverSignature = base64Encode(await hmac(serverKey as Uint8Array<ArrayBuffer>, authMessage));
          state = 2;
          return utf8(`${withoutProof},p=${base64Encode(clientKey.map((b, i) => b ^ clientSignature[i]!))}`);
        },

        async success(data) {
          const from = enter(state < 4);
          if (from < 2) throw mismatch('premature success');
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

/** A random, non-extractable HMAC key (one per process), so a cache key in memory is no plain hash of the password. */
let pepper: Promise<CryptoKey> | undefined;

/**
 * Derived SCRAM keys, keyed by hash name, salt (base64), iteration count and a
 * digest of the password, so that a reconnect to the same server skips PBKDF2.
 * The password itself is never stored: the digest is HMAC-SHA-256(random per-process key, password).
 * The oldest entries are dropped beyond `maxEntries`.
 */
export class ScramCache {
  readonly #entries = new Map<string, ScramKeys>();
  declare readonly maxEntries: number;

  constructor(maxEntries = 8) {
    this.maxEntries = maxEntries;
  }

  /** The cache key for these inputs. */
  async key({ hash, salt, iterations, password }: ScramKeyInputs): Promise<string> {
    pepper ??= subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const digest = await subtle.sign('HMAC', await pepper, password as Uint8Array<ArrayBuffer>);
    return `${hash}|${base64Encode(salt)}|${iterations}|${base64Encode(new Uint8Array(digest))}`;
  }

  get(key: string): ScramKeys | undefined {
    return this.#entries.get(key);
  }

  set(key: string, { clientKey, serverKey }: ScramKeys): void {
    const entries = this.#entries;
    // delete first, so the entry becomes the newest; copies, so the caller's arrays stay theirs
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
