/**
 * SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on WebCrypto,
 * without channel binding (GS2 header `n,,` or `n,a=authzid,`). The server signature
 * is always verified: `success()` rejects unless a valid `v=` was received.
 */
import { SASLError } from '@xmppkit/error';
import { base64Decode, base64Encode } from './base64.js';
import { saslprep } from './saslprep.js';
import type { Credentials, Mechanism, MechanismContext, MechanismSession, ScramKeys } from './types.js';

/** Iteration counts above this are refused (a hostile server could otherwise stall the client). */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

export type ScramHash = 'SHA-1' | 'SHA-256' | 'SHA-512';
const HASH_BITS: Record<ScramHash, number> = { 'SHA-1': 160, 'SHA-256': 256, 'SHA-512': 512 };

type Bytes = Uint8Array<ArrayBuffer>;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const CLIENT_KEY = encoder.encode('Client Key');
const SERVER_KEY = encoder.encode('Server Key');
/** printable ASCII except ',' (RFC 5802 `printable`) */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

const invalid = (text: string) => new SASLError('invalid-challenge', { text });
const mismatch = (text: string) => new SASLError('server-signature-mismatch', { text });
const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** RFC 5802 saslname: `=` becomes `=3D` and `,` becomes `=2C`. */
export function escapeSaslname(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

async function hmac(hash: ScramHash, key: Bytes, data: Bytes): Promise<Bytes> {
  const cryptoKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, data));
}

/** SaltedPassword = Hi(password, salt, i) with PBKDF2; returns ClientKey and ServerKey. */
async function deriveKeys(hash: ScramHash, password: Bytes, salt: Bytes, iterations: number): Promise<ScramKeys> {
  const base = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', salt, iterations, hash }, base, HASH_BITS[hash]);
  const salted = new Uint8Array(bits);
  try {
    return { clientKey: await hmac(hash, salted, CLIENT_KEY), serverKey: await hmac(hash, salted, SERVER_KEY) };
  } finally {
    salted.fill(0);
  }
}

function xor(a: Uint8Array, b: Uint8Array): Bytes {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Constant-time comparison (the time depends only on the length). */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function decode(data: Uint8Array): string {
  try {
    return decoder.decode(data);
  } catch {
    throw invalid('SCRAM message is not valid UTF-8');
  }
}

/** `a=value,b=value` to a map (first occurrence wins). */
function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!match?.[1] || match[2] === undefined) throw invalid(`malformed SCRAM attribute "${clip(part)}"`);
    if (!attributes.has(match[1])) attributes.set(match[1], match[2]);
  }
  return attributes;
}

/** A server-error (`e=`) in a server-final-message. */
function serverError(error: string): SASLError {
  return new SASLError('not-authorized', { text: `server reported SCRAM error "${clip(error)}"` });
}

type State = 'initial' | 'first-sent' | 'final-sent' | 'verified' | 'done' | 'failed';

class ScramSession implements MechanismSession {
  readonly #hash: ScramHash;
  readonly #credentials: Credentials;
  readonly #context: MechanismContext;
  #state: State = 'initial';
  #password: Bytes | undefined;
  #clientNonce = '';
  #gs2Header = '';
  #clientFirstBare = '';
  #serverSignature: Bytes | undefined;
  #pending: { key: string; keys: ScramKeys } | undefined;

  constructor(hash: ScramHash, credentials: Credentials, context: MechanismContext) {
    this.#hash = hash;
    this.#credentials = credentials;
    this.#context = context;
  }

  start(): Promise<Uint8Array | null> {
    return this.#guard(['initial'], async () => {
      const { username, password, authzid } = this.#credentials;
      const user = saslprep(username ?? '', { allowUnassigned: true, field: 'username' });
      if (!user) throw new SASLError('invalid-username', { text: 'username is required' });
      const pass = saslprep(password ?? '', { allowUnassigned: true, field: 'password' });
      if (!pass) throw new SASLError('invalid-password', { text: 'password is required' });
      const nonce = this.#context.nonce ?? base64Encode(crypto.getRandomValues(new Uint8Array(24)));
      if (!PRINTABLE.test(nonce)) throw new TypeError('the client nonce must be printable ASCII without ","');

      this.#password = encoder.encode(pass);
      this.#clientNonce = nonce;
      this.#gs2Header = authzid ? `n,a=${escapeSaslname(authzid)},` : 'n,,';
      this.#clientFirstBare = `n=${escapeSaslname(user)},r=${nonce}`;
      this.#state = 'first-sent';
      return encoder.encode(this.#gs2Header + this.#clientFirstBare);
    });
  }

  challenge(data: Uint8Array): Promise<Uint8Array> {
    return this.#guard(['first-sent', 'final-sent'], async () => {
      if (this.#state === 'first-sent') return this.#clientFinal(decode(data));
      // Some servers send the server-final-message as a challenge, then an empty <success/>.
      this.#verify(data);
      this.#state = 'verified';
      return new Uint8Array(0);
    });
  }

  success(data: Uint8Array | null): Promise<void> {
    return this.#guard(['initial', 'first-sent', 'final-sent', 'verified'], async () => {
      if (this.#state === 'initial' || this.#state === 'first-sent') {
        throw mismatch('server reported success before the SCRAM exchange completed');
      }
      if (this.#state === 'final-sent') {
        if (!data?.length) throw mismatch('server reported success without its signature (v=)');
        this.#verify(data);
      } else if (data?.length) {
        this.#verify(data);
      }
      this.#state = 'done';
    });
  }

  async #clientFinal(serverFirst: string): Promise<Bytes> {
    const attributes = parseAttributes(serverFirst);
    const error = attributes.get('e');
    if (error !== undefined) throw serverError(error);
    if (attributes.has('m')) throw invalid('server requires an unsupported SCRAM extension (m=)');

    const nonce = attributes.get('r');
    if (!nonce || !PRINTABLE.test(nonce) || !nonce.startsWith(this.#clientNonce) || nonce.length <= this.#clientNonce.length) {
      throw invalid('server nonce does not extend the client nonce');
    }
    const s = attributes.get('s');
    if (!s) throw invalid('server sent no salt (s=)');
    let salt: Bytes;
    try {
      salt = base64Decode(s);
    } catch {
      throw invalid('salt (s=) is not valid base64');
    }
    if (salt.length === 0) throw invalid('salt (s=) is empty');
    const i = attributes.get('i') ?? '';
    const iterations = /^\d{1,9}$/.test(i) ? Number(i) : NaN;
    if (!(iterations >= 1 && iterations <= MAX_SCRAM_ITERATIONS)) {
      throw invalid(`iteration count (i=) "${clip(i)}" is not an integer between 1 and ${MAX_SCRAM_ITERATIONS}`);
    }

    const hash = this.#hash;
    const password = this.#password ?? new Uint8Array(0);
    this.#password = undefined;
    const cache = this.#context.scramCache;
    const key = await cache.key({ hash, salt, iterations, password });
    const keys = cache.get(key) ?? (await deriveKeys(hash, password, salt, iterations));
    password.fill(0);
    this.#pending = { key, keys };

    const withoutProof = `c=${base64Encode(encoder.encode(this.#gs2Header))},r=${nonce}`;
    const authMessage = encoder.encode(`${this.#clientFirstBare},${serverFirst},${withoutProof}`);
    const clientKey = new Uint8Array(keys.clientKey);
    const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
    const clientSignature = await hmac(hash, storedKey, authMessage);
    this.#serverSignature = await hmac(hash, new Uint8Array(keys.serverKey), authMessage);
    const proof = xor(clientKey, clientSignature);
    clientKey.fill(0);
    this.#state = 'final-sent';
    return encoder.encode(`${withoutProof},p=${base64Encode(proof)}`);
  }

  /** Check a server-final-message; on success the derived keys go to the cache. */
  #verify(data: Uint8Array): void {
    const attributes = parseAttributes(decode(data));
    const error = attributes.get('e');
    if (error !== undefined) throw serverError(error);
    const v = attributes.get('v');
    if (v === undefined) throw mismatch('server did not send its signature (v=)');
    let signature: Uint8Array;
    try {
      signature = base64Decode(v);
    } catch {
      throw mismatch('server signature (v=) is not valid base64');
    }
    if (!this.#serverSignature || !timingSafeEqual(signature, this.#serverSignature)) {
      throw mismatch('server signature (v=) does not match: the server does not know the password');
    }
    if (this.#pending) this.#context.scramCache.set(this.#pending.key, this.#pending.keys);
    this.#pending = undefined;
  }

  async #guard<T>(states: readonly State[], step: () => Promise<T>): Promise<T> {
    if (!states.includes(this.#state)) {
      throw new SASLError('invalid-challenge', { text: `unexpected SCRAM step in state ${this.#state}` });
    }
    try {
      return await step();
    } catch (error) {
      this.#state = 'failed';
      this.#password?.fill(0);
      this.#password = undefined;
      this.#pending = undefined;
      throw error;
    }
  }
}

function scram(hash: ScramHash): Mechanism {
  return {
    name: `SCRAM-${hash}`,
    create: (credentials, context) => new ScramSession(hash, credentials, context),
  };
}

export const scramSha1: Mechanism = scram('SHA-1');
export const scramSha256: Mechanism = scram('SHA-256');
export const scramSha512: Mechanism = scram('SHA-512');
