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
  override name: string = 'XMPPError';
  readonly condition: string;
  readonly text: string | undefined;
  readonly application: ErrorElement | undefined;
  readonly element: ErrorElement | undefined;

  constructor(condition: string, options: XMPPErrorOptions = {}) {
    super(options.text ? `${condition} - ${options.text}` : condition, options.cause === undefined ? undefined : { cause: options.cause });
    this.condition = condition;
    this.text = options.text;
    this.application = options.application;
    this.element = options.element;
  }
}

const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const STREAMS_NS = 'urn:ietf:params:xml:ns:xmpp-streams';

function parseConditionElement(element: ErrorElement, ns: string): { condition: string; text?: string; application?: ErrorElement } {
  let condition = 'undefined-condition';
  let text: string | undefined;
  let application: ErrorElement | undefined;
  for (const child of element.getChildElements()) {
    const xmlns = child.attrs.xmlns;
    if (child.name === 'text' && (xmlns === ns || xmlns === undefined)) text = child.text();
    else if (xmlns === ns) condition = child.name;
    else application ??= child;
  }
  return { condition, ...(text !== undefined ? { text } : {}), ...(application ? { application } : {}) };
}

/** A `<stream:error/>` received from (or sent to) the peer. */
export class StreamError extends XMPPError {
  override name = 'StreamError';
  static fromElement(element: ErrorElement): StreamError {
    const { condition, text, application } = parseConditionElement(element, STREAMS_NS);
    return new StreamError(condition, { text, application, element });
  }
}

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** An `<error/>` child of an iq, message or presence of type `error`. */
export class StanzaError extends XMPPError {
  override name = 'StanzaError';
  readonly type: StanzaErrorType | undefined;
  constructor(condition: string, options: XMPPErrorOptions & { type?: StanzaErrorType } = {}) {
    super(condition, options);
    this.type = options.type;
  }
  /** Build from the `<error/>` element (not the stanza that carries it). */
  static fromElement(element: ErrorElement): StanzaError {
    const { condition, text, application } = parseConditionElement(element, STANZAS_NS);
    return new StanzaError(condition, { text, application, element, type: element.attrs.type as StanzaErrorType | undefined });
  }
}

/** SASL `<failure/>` from the server, or a local authentication failure (for example a bad server signature). */
export class SASLError extends XMPPError {
  override name = 'SASLError';
  static fromElement(element: ErrorElement): SASLError {
    let condition = 'temporary-auth-failure';
    let text: string | undefined;
    let application: ErrorElement | undefined;
    for (const child of element.getChildElements()) {
      if (child.name === 'text') text = child.text();
      else if (child.attrs.xmlns === undefined || child.attrs.xmlns === element.attrs.xmlns) condition = child.name;
      else application ??= child;
    }
    return new SASLError(condition, { text, application, element });
  }
}

/** Something did not happen in time. `condition` is always `timeout`. */
export class TimeoutError extends XMPPError {
  override name = 'TimeoutError';
  constructor(text?: string) {
    super('timeout', text === undefined ? {} : { text });
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
