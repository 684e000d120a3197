import { unescapeLocal } from './escaping.js';
import { InvalidJIDError } from './InvalidJIDError.js';
import { notString, prepare } from './validate.js';

/**
 * The string parse() is reading, set just before it calls the constructor and cleared by it: the
 * constructor then takes the local part as wire form (never escaped) and puts the string on errors.
 */
let parsing: string | undefined;

/**
 * A Jabber ID: `local@domain/resource`, where only the domain is required.
 *
 * Parts are normalized when set: the local part and the domain are lower-cased (and NFC), the
 * domain loses one trailing dot, and a local part given in user-facing form (`d'artagnan`) is
 * escaped with XEP-0106 (`d\27artagnan`). Anything invalid throws InvalidJIDError.
 * Absent parts read as the empty string.
 */
export class JID {
  #local: string;
  #domain: string;
  #resource: string;

  /**
   * @param local the local part in user-facing or escaped form; undefined, null or '' for none
   * @param domain the domain (required)
   * @param resource the resource; undefined, null or '' for none
   */
  constructor(local: string | undefined | null, domain: string, resource?: string | null) {
    const input = parsing;
    parsing = undefined;
    this.#local = prepare('local', local, input);
    this.#domain = prepare('domain', domain, input);
    this.#resource = prepare('resource', resource, input);
  }

  /** The local part, escaped (wire form); '' when there is none. Setting it escapes as the constructor does. */
  get local(): string {
    return this.#local;
  }
  set local(local: string | undefined | null) {
    this.#local = prepare('local', local);
  }

  /** The domain; setting it validates and normalizes it. */
  get domain(): string {
    return this.#domain;
  }
  set domain(domain: string) {
    this.#domain = prepare('domain', domain);
  }

  /** The resource; '' when there is none. */
  get resource(): string {
    return this.#resource;
  }
  set resource(resource: string | undefined | null) {
    this.#resource = prepare('resource', resource);
  }

  /** The local part, unescaped for display when `unescape` is true (xmpp.js compatible). */
  getLocal(unescape?: boolean): string {
    return unescape ? unescapeLocal(this.#local) : this.#local;
  }
  /** Set the local part; `escape` forces XEP-0106 escaping even when it does not look needed (xmpp.js compatible). */
  setLocal(local: string | undefined | null, escape?: boolean): this {
    this.#local = prepare('local', local, undefined, escape);
    return this;
  }
  getDomain(): string {
    return this.#domain;
  }
  setDomain(domain: string): this {
    this.domain = domain;
    return this;
  }
  getResource(): string {
    return this.#resource;
  }
  setResource(resource: string | undefined | null): this {
    this.resource = resource;
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
    return !this.#resource;
  }

  /** Whether `other` (a JID or a JID string) is the same JID; an invalid string is never equal. */
  equals(other: JID | string): boolean {
    return equal(this, other);
  }

  /** `local@domain/resource`, with the local part unescaped (for display only) when `unescape` is true. */
  toString(unescape?: boolean): string {
    return `${this.#local ? `${this.getLocal(unescape)}@` : ''}${this.#domain}${this.#resource ? `/${this.#resource}` : ''}`;
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
  if (typeof address !== 'string') throw new InvalidJIDError('address', '', notString(address));
  const [, local, domain, resource] = /^(?:([^@/]*)@)?([^/]*)(?:\/([^]*))?$/.exec(address)!;
  // nothing after "/" or before "@" (an absent part is undefined); reported before any other problem
  if (resource === '' || local === '') throw new InvalidJIDError(resource === '' ? 'resource' : 'local', '', 'is empty', address);
  parsing = address;
  return new JID(local, domain!, resource);
}

/** The string form of a JID or JID string, which is unambiguous; NaN (equal to nothing) for an invalid one. */
function key(value: JID | string): string | number {
  try {
    // parse() throws nothing but InvalidJIDError (also for a value that is not a string)
    return `${value instanceof JID ? value : parse(value)}`;
  } catch {
    return NaN;
  }
}

/** Whether two JIDs (JID objects or JID strings) are the same; an invalid string is equal to nothing. */
export function equal(a: JID | string, b: JID | string): boolean {
  return key(a) === key(b);
}

/**
 * `jid('juliet@capulet.lit/balcony')` parses a JID string;
 * `jid('juliet', 'capulet.lit', 'balcony')` builds one from its parts (escaping the local part).
 */
export function jid(address: string): JID;
export function jid(local: string | undefined | null, domain: string, resource?: string | null): JID;
export function jid(first: string | undefined | null, domain?: string, resource?: string | null): JID {
  return domain === undefined && resource === undefined ? parse(first as string) : new JID(first, domain as string, resource);
}
