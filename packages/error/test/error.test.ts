import { describe, expect, it } from 'vitest';
import { AbortError, ConnectionError, SASLError, StanzaError, StreamError, TimeoutError, XMPPError } from '@xmppkit/error';
import { parse, xml } from '@xmppkit/xml';

const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

describe('XMPPError', () => {
  it('carries condition, text and a message made of both', () => {
    const err = new XMPPError('conflict', { text: 'replaced' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('XMPPError');
    expect(err.condition).toBe('conflict');
    expect(err.text).toBe('replaced');
    expect(err.message).toBe('conflict - replaced');
    expect(err.application).toBeUndefined();
    expect(err.element).toBeUndefined();
  });

  it('uses the bare condition as message without text, and keeps a cause', () => {
    const cause = new Error('root');
    const err = new XMPPError('internal-server-error', { cause });
    expect(err.message).toBe('internal-server-error');
    expect(err.text).toBeUndefined();
    expect(err.cause).toBe(cause);
    expect('cause' in new XMPPError('x')).toBe(false);
  });
});

describe('StreamError.fromElement', () => {
  it('reads condition, text and application element', () => {
    const el = xml(
      'stream:error',
      { 'xmlns:stream': 'http://etherx.jabber.org/streams' },
      xml('conflict', NS_STREAMS),
      xml('text', { xmlns: NS_STREAMS, 'xml:lang': 'en' }, 'Replaced by new connection'),
      xml('escape-your-data', 'http://example.org/ns'),
    );
    const err = StreamError.fromElement(el);
    expect(err).toBeInstanceOf(StreamError);
    expect(err).toBeInstanceOf(XMPPError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('StreamError');
    expect(err.condition).toBe('conflict');
    expect(err.text).toBe('Replaced by new connection');
    expect(err.message).toBe('conflict - Replaced by new connection');
    expect(err.application?.name).toBe('escape-your-data');
    expect(err.application?.attrs.xmlns).toBe('http://example.org/ns');
    expect(err.element).toBe(el);
  });

  it('works on a parsed element without text', () => {
    const el = parse(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><policy-violation xmlns='${NS_STREAMS}'/></stream:error>`);
    const err = StreamError.fromElement(el);
    expect(err.condition).toBe('policy-violation');
    expect(err.text).toBeUndefined();
    expect(err.application).toBeUndefined();
    expect(err.message).toBe('policy-violation');
  });

  it('falls back to undefined-condition when no defined condition is present', () => {
    const err = StreamError.fromElement(xml('stream:error', {}, xml('custom', 'urn:example')));
    expect(err.condition).toBe('undefined-condition');
    expect(err.application?.name).toBe('custom');
  });

  it('keeps the first application element only', () => {
    const err = StreamError.fromElement(xml('stream:error', {}, xml('bad-format', NS_STREAMS), xml('first', 'urn:a'), xml('second', 'urn:b')));
    expect(err.condition).toBe('bad-format');
    expect(err.application?.name).toBe('first');
  });
});

describe('StanzaError.fromElement', () => {
  it('reads type, condition, text and application element of an <error/>', () => {
    const iq = parse(
      `<iq type='error' id='1' from='pubsub.example.org'>` +
        `<error type='cancel'><feature-not-implemented xmlns='${NS_STANZAS}'/>` +
        `<text xmlns='${NS_STANZAS}'>no subscriptions</text>` +
        `<unsupported xmlns='http://jabber.org/protocol/pubsub#errors' feature='subscribe'/></error></iq>`,
    );
    const error = iq.getChild('error');
    expect(error).toBeDefined();
    const err = StanzaError.fromElement(error!);
    expect(err).toBeInstanceOf(StanzaError);
    expect(err).toBeInstanceOf(XMPPError);
    expect(err.name).toBe('StanzaError');
    expect(err.type).toBe('cancel');
    expect(err.condition).toBe('feature-not-implemented');
    expect(err.text).toBe('no subscriptions');
    expect(err.application?.name).toBe('unsupported');
    expect(err.application?.attrs.feature).toBe('subscribe');
    expect(err.element).toBe(error);
  });

  it.each(['auth', 'cancel', 'continue', 'modify', 'wait'] as const)('keeps type %s', (type) => {
    const err = StanzaError.fromElement(xml('error', { type }, xml('not-allowed', NS_STANZAS)));
    expect(err.type).toBe(type);
    expect(err.condition).toBe('not-allowed');
  });

  it('leaves type undefined when absent and defaults the condition', () => {
    const err = StanzaError.fromElement(xml('error'));
    expect(err.type).toBeUndefined();
    expect(err.condition).toBe('undefined-condition');
    expect(err.text).toBeUndefined();
  });

  it('can be built directly with a type', () => {
    const err = new StanzaError('item-not-found', { type: 'cancel', text: 'gone' });
    expect(err.type).toBe('cancel');
    expect(err.message).toBe('item-not-found - gone');
  });
});

describe('SASLError.fromElement', () => {
  it('reads condition and text of a <failure/>', () => {
    const failure = parse(`<failure xmlns='${NS_SASL}'><not-authorized/><text>bad</text></failure>`);
    const err = SASLError.fromElement(failure);
    expect(err).toBeInstanceOf(SASLError);
    expect(err).toBeInstanceOf(XMPPError);
    expect(err.name).toBe('SASLError');
    expect(err.condition).toBe('not-authorized');
    expect(err.text).toBe('bad');
    expect(err.message).toBe('not-authorized - bad');
    expect(err.element).toBe(failure);
    expect(err.application).toBeUndefined();
  });

  it('reads a condition carrying the SASL namespace explicitly, and an application element', () => {
    const failure = xml('failure', NS_SASL, xml('account-disabled', NS_SASL), xml('extra', 'urn:example'));
    const err = SASLError.fromElement(failure);
    expect(err.condition).toBe('account-disabled');
    expect(err.text).toBeUndefined();
    expect(err.application?.name).toBe('extra');
  });

  it('defaults to temporary-auth-failure for an empty <failure/>', () => {
    const err = SASLError.fromElement(xml('failure', NS_SASL));
    expect(err.condition).toBe('temporary-auth-failure');
    expect(err.message).toBe('temporary-auth-failure');
  });
});

describe('TimeoutError, AbortError, ConnectionError', () => {
  it('TimeoutError always has condition timeout', () => {
    const bare = new TimeoutError();
    expect(bare.name).toBe('TimeoutError');
    expect(bare.condition).toBe('timeout');
    expect(bare.message).toBe('timeout');
    expect(bare.text).toBeUndefined();
    const withText = new TimeoutError('no pong');
    expect(withText.condition).toBe('timeout');
    expect(withText.text).toBe('no pong');
    expect(withText.message).toBe('timeout - no pong');
    expect(withText).toBeInstanceOf(XMPPError);
  });

  it('AbortError has condition aborted, a default text and an optional cause', () => {
    const err = new AbortError();
    expect(err.name).toBe('AbortError');
    expect(err.condition).toBe('aborted');
    expect(err.text).toBe('aborted');
    const cause = new Error('socket closed');
    const withCause = new AbortError('link lost', cause);
    expect(withCause.text).toBe('link lost');
    expect(withCause.cause).toBe(cause);
    expect(withCause).toBeInstanceOf(XMPPError);
  });

  it('ConnectionError keeps its machine-readable condition', () => {
    const err = new ConnectionError('not-online', { text: 'cannot send while offline' });
    expect(err.name).toBe('ConnectionError');
    expect(err.condition).toBe('not-online');
    expect(err).toBeInstanceOf(XMPPError);
  });

  it('every class reports its own name and is told apart by instanceof', () => {
    const errors = [
      new XMPPError('x'),
      new StreamError('x'),
      new StanzaError('x'),
      new SASLError('x'),
      new TimeoutError(),
      new AbortError(),
      new ConnectionError('x'),
    ];
    expect(errors.map((e) => e.name)).toEqual(['XMPPError', 'StreamError', 'StanzaError', 'SASLError', 'TimeoutError', 'AbortError', 'ConnectionError']);
    expect(errors.every((e) => e instanceof XMPPError && e instanceof Error)).toBe(true);
    expect(errors.filter((e) => e instanceof StanzaError)).toHaveLength(1);
    expect(new TimeoutError()).not.toBeInstanceOf(AbortError);
    expect(String(new SASLError('not-authorized'))).toBe('SASLError: not-authorized');
  });
});
