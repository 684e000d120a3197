import type { ScramCache } from './scram.js';

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
