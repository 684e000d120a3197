import { unescapeLocal } from './escaping.js';
import { InvalidJIDError } from './InvalidJIDError.js';
import { prepareDomain, prepareLocal, prepareResource } from './validate.js';

/** Builds a JID from parts already in wire form (used by parse, which must not escape). */
let fromWireParts: (local: string, domain: string, resource: string, input: string) => JID;

/**
 * A Jabber ID: `local@domain/resource`, where only the domain is required.
 *
 * Parts are normalized when set: the local part and the domain are lower-cased (and NFC), the
 * domain loses one trailing dot, and a local part given in user-facing form (`d'artagnan`) is
 * escaped with XEP-0106 (`d\27artagnan`). Anything invalid throws InvalidJIDError.
 * Absent parts read as the empty string.
 */
export class JID {
  #local = '';
  #domain = '';
  #resource = '';

  static {
    fromWireParts = (local, domain, resource, input) => {
      const parsedLocal = prepareLocal(local, 'none', input);
      const jid = new JID(null, prepareDomain(domain, input), prepareResource(resource, input));
      jid.#local = parsedLocal;
      return jid;
    };
  }

  /**
   * @param local the local part in user-facing or escaped form; undefined, null or '' for none
   * @param domain the domain (required)
   * @param resource the resource; undefined, null or '' for none
   */
  constructor(local: string | undefined | null, domain: string, resource?: string | null) {
    const preparedLocal = prepareLocal(local, 'detect');
    const preparedDomain = prepareDomain(domain);
    const preparedResource = prepareResource(resource);
    this.#local = preparedLocal;
    this.#domain = preparedDomain;
    this.#resource = preparedResource;
  }

  /** The local part, escaped (wire form); '' when there is none. Setting it escapes as the constructor does. */
  get local(): string {
    return this.#local;
  }
  set local(local: string | undefined | null) {
    this.#local = prepareLocal(local, 'detect');
  }

  /** The domain; setting it validates and normalizes it. */
  get domain(): string {
    return this.#domain;
  }
  set domain(domain: string) {
    this.#domain = prepareDomain(domain);
  }

  /** The resource; '' when there is none. */
  get resource(): string {
    return this.#resource;
  }
  set resource(resource: string | undefined | null) {
    this.#resource = prepareResource(resource);
  }

  /** The local part, unescaped for display when `unescape` is true (xmpp.js compatible). */
  getLocal(unescape = false): string {
    return unescape ? unescapeLocal(this.#local) : this.#local;
  }
  /** Set the local part; `escape` forces XEP-0106 escaping even when it does not look needed (xmpp.js compatible). */
  setLocal(local: string | undefined | null, escape = false): this {
    this.#local = prepareLocal(local, escape ? 'force' : 'detect');
    return this;
  }
  getDomain(): string {
    return this.#domain;
  }
  setDomain(domain: string): this {
    this.#domain = prepareDomain(domain);
    return this;
  }
  getResource(): string {
    return this.#resource;
  }
  setResource(resource: string | undefined | null): this {
    this.#resource = prepareResource(resource);
    return this;
  }

  /** A new JID without the resource. */
  bare(): JID {
    const bare = new JID(null, this.#domain);
    bare.#local = this.#local;
    return bare;
  }

  /** Whether this JID has no resource. */
  isBare(): boolean {
    return this.#resource === '';
  }

  /** Whether `other` (a JID or a JID string) is the same JID; an invalid string is never equal. */
  equals(other: JID | string): boolean {
    return equal(this, other);
  }

  /** `local@domain/resource`, with the local part unescaped (for display only) when `unescape` is true. */
  toString(unescape = false): string {
    let address = this.#domain;
    if (this.#local) address = `${unescape ? unescapeLocal(this.#local) : this.#local}@${address}`;
    if (this.#resource) address = `${address}/${this.#resource}`;
    return address;
  }

  [Symbol.toPrimitive](): string {
    return this.toString();
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Parse a JID string (wire form) as RFC 7622 says: the resource is everything after the first
 * "/", the local part whatever precedes the first "@" before that. The local part is taken as
 * already escaped: characters that XEP-0106 escapes are errors here, not escaped.
 */
export function parse(address: string): JID {
  if (typeof address !== 'string') {
    throw new InvalidJIDError('address', '', `must be a string, not ${address === null ? 'null' : typeof address}`);
  }
  let rest = address;
  let local = '';
  let resource = '';
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    resource = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
    if (resource === '') throw new InvalidJIDError('resource', '', 'is empty: nothing follows "/" (leave the "/" out for a bare JID)', address);
  }
  const at = rest.indexOf('@');
  if (at !== -1) {
    local = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (local === '') throw new InvalidJIDError('local', '', 'is empty: nothing precedes "@" (leave the "@" out for a domain-only JID)', address);
  }
  return fromWireParts(local, rest, resource, address);
}

function toJID(value: JID | string): JID | null {
  if (value instanceof JID) return value;
  if (typeof value !== 'string') return null;
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof InvalidJIDError) return null;
    throw err;
  }
}

/** Whether two JIDs (JID objects or JID strings) are the same; an invalid string is equal to nothing. */
export function equal(a: JID | string, b: JID | string): boolean {
  const left = toJID(a);
  const right = toJID(b);
  if (!left || !right) return false;
  return left === right || (left.local === right.local && left.domain === right.domain && left.resource === right.resource);
}

/**
 * `jid('juliet@capulet.lit/balcony')` parses a JID string;
 * `jid('juliet', 'capulet.lit', 'balcony')` builds one from its parts (escaping the local part).
 */
export function jid(address: string): JID;
export function jid(local: string | undefined | null, domain: string, resource?: string | null): JID;
export function jid(first: string | undefined | null, domain?: string, resource?: string | null): JID {
  if (domain === undefined && resource === undefined) return parse(first as string);
  return new JID(first, domain as string, resource);
}
