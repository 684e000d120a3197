import { base64Encode } from './base64.js';

/** What the user authenticates with. Which fields are used depends on the mechanism. */
export interface Credentials {
  username?: string;
  password?: string;
  /** authorization identity (act as this JID); omitted from the exchange when empty */
  authzid?: string;
}

export interface MechanismContext {
  /** cache shared by one client object so reconnects/resumes do not redo PBKDF2 */
  scramCache: ScramCache;
  /** for tests: fixed client nonce */
  nonce?: string;
}

/** One authentication attempt. Payloads are raw bytes (the caller does the base64 of the XML). */
export interface MechanismSession {
  /** initial response; null means no initial response (send empty <auth/>) */
  start(): Promise<Uint8Array | null>;
  /** answer a server challenge */
  challenge(data: Uint8Array): Promise<Uint8Array>;
  /**
   * called with the additional data of <success/> (null when none); throws
   * SASLError('server-signature-mismatch') when the mechanism verifies the server
   * and verification fails, or when the server skipped a required step
   */
  success(data: Uint8Array | null): Promise<void>;
}

export interface Mechanism {
  /** the IANA SASL mechanism name, as offered in <mechanisms/> */
  readonly name: string;
  create(credentials: Credentials, context: MechanismContext): MechanismSession;
}

/** The password-equivalent keys SCRAM derives with PBKDF2 (RFC 5802 ClientKey and ServerKey). */
export interface ScramKeys {
  readonly clientKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

/** The inputs that determine the SCRAM keys. */
export interface ScramKeyInputs {
  /** WebCrypto hash name: 'SHA-1', 'SHA-256' or 'SHA-512' */
  hash: string;
  salt: Uint8Array;
  iterations: number;
  /** the SASLprepped password, UTF-8 */
  password: Uint8Array;
}

/**
 * Derived SCRAM keys, keyed by hash name, salt (base64), iteration count and a
 * SHA-256 digest of the password, so that a reconnect to the same server skips PBKDF2.
 * The password itself is never stored: the digest is SHA-256(random per-cache pepper ‖ password).
 * The oldest entries are dropped beyond `maxEntries`.
 */
/** Random bytes mixed into cache keys, so a key string in memory is no plain hash of the password (one per process). */
let processPepper: Uint8Array | undefined;

export class ScramCache {
  readonly #entries = new Map<string, ScramKeys>();
  readonly maxEntries: number;

  constructor(maxEntries = 8) {
    this.maxEntries = maxEntries;
  }

  /** The cache key for these inputs. */
  async key({ hash, salt, iterations, password }: ScramKeyInputs): Promise<string> {
    const pepper = (processPepper ??= crypto.getRandomValues(new Uint8Array(16)));
    const input = new Uint8Array(pepper.length + password.length);
    input.set(pepper);
    input.set(password, pepper.length);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
    input.fill(0);
    return `${hash}|${base64Encode(salt)}|${iterations}|${base64Encode(digest)}`;
  }

  get(key: string): ScramKeys | undefined {
    return this.#entries.get(key);
  }

  set(key: string, keys: ScramKeys): void {
    this.#entries.delete(key);
    this.#entries.set(key, { clientKey: keys.clientKey.slice(), serverKey: keys.serverKey.slice() });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
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
