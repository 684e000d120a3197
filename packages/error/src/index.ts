/**
 * Errors raised by xmppkit. Every error has a `name` (the class) and a `condition`
 * (the XMPP defined condition, or an xmppkit condition for local failures).
 */

/** A minimal view of an XML element, so this package needs no XML dependency. */
export interface ErrorElement {
  name: string;
  attrs: Record<string, string | undefined>;
  getChildElements(): ErrorElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getChild(name: string, xmlns?: string): ErrorElement | undefined;
  text(): string;
}

export interface XMPPErrorOptions {
  text?: string;
  application?: ErrorElement;
  element?: ErrorElement;
  cause?: unknown;
}

export class XMPPError extends Error {
  override name = 'XMPPError';
  declare readonly condition: string;
  declare readonly text: string | undefined;
  declare readonly application: ErrorElement | undefined;
  declare readonly element: ErrorElement | undefined;

  constructor(condition: string, options: XMPPErrorOptions = {}) {
    // Error reads only `cause` from its options; no own `cause` property when there is none.
    super(options.text ? `${condition} - ${options.text}` : condition, options.cause === undefined ? undefined : options);
    this.condition = condition;
    this.text = options.text;
    this.application = options.application;
    this.element = options.element;
  }
}

type Options = XMPPErrorOptions & { type?: StanzaErrorType };

/**
 * Build an error from its element. A child in `ns` (its own `xmlns`, or the parent's when it has none)
 * is the condition, `<text/>` in `ns` or no namespace the text, the first other child the application element.
 */
function parse<T>(C: new (condition: string, options: Options) => T, element: ErrorElement, ns: string | undefined, condition = 'undefined-condition'): T {
  let text: string | undefined;
  let application: ErrorElement | undefined;
  for (const child of element.getChildElements()) {
    const xmlns = child.attrs.xmlns;
    if (child.name === 'text' && (xmlns ?? ns) === ns) text = child.text();
    else if ((xmlns ?? element.attrs.xmlns) === ns) condition = child.name;
    else application ??= child;
  }
  return new C(condition, { text, application, element, type: element.attrs.type as StanzaErrorType | undefined });
}

/** A `<stream:error/>` received from (or sent to) the peer. */
export class StreamError extends XMPPError {
  override name = 'StreamError';
  static fromElement(element: ErrorElement): StreamError {
    return parse(StreamError, element, 'urn:ietf:params:xml:ns:xmpp-streams');
  }
}

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** An `<error/>` child of an iq, message or presence of type `error`. */
export class StanzaError extends XMPPError {
  override name = 'StanzaError';
  declare readonly type: StanzaErrorType | undefined;
  constructor(condition: string, options: Options = {}) {
    super(condition, options);
    this.type = options.type;
  }
  /** Build from the `<error/>` element (not the stanza that carries it). */
  static fromElement(element: ErrorElement): StanzaError {
    return parse(StanzaError, element, 'urn:ietf:params:xml:ns:xmpp-stanzas');
  }
}

/** SASL `<failure/>` from the server, or a local authentication failure (for example a bad server signature). */
export class SASLError extends XMPPError {
  override name = 'SASLError';
  static fromElement(element: ErrorElement): SASLError {
    return parse(SASLError, element, element.attrs.xmlns, 'temporary-auth-failure');
  }
}

/** Something did not happen in time. `condition` is always `timeout`. */
export class TimeoutError extends XMPPError {
  override name = 'TimeoutError';
  constructor(text?: string) {
    super('timeout', { text });
  }
}

/** The operation was given up because the connection went away or the caller aborted it. */
export class AbortError extends XMPPError {
  override name = 'AbortError';
  constructor(text = 'aborted', cause?: unknown) {
    super('aborted', { text, cause });
  }
}

/** A local misuse or failure with a short machine-readable condition (for example `not-online`). */
export class ConnectionError extends XMPPError {
  override name = 'ConnectionError';
}

/** `value` itself when it is an Error, else an Error with its text: for values thrown or rejected by code we do not control. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
