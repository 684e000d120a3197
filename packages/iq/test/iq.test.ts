import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, xml, StanzaError, TimeoutError, ConnectionError, type Element } from '@xmppkit/client';
import { id, isValidReplyFrom, iqError, NS_STANZAS } from '@xmppkit/iq';
import { jid } from '@xmppkit/jid';
import { ScriptedServer, type ServerConnection } from '@xmppkit/test';

const OWN = 'user@localhost/res';

function setup() {
  const server = new ScriptedServer();
  const xmpp = client({
    service: 'memory://localhost',
    username: 'user',
    password: 'pencil',
    transports: [server.factory],
    timeout: 2000,
    reconnect: false,
    streamManagement: { enabled: false },
  });
  const errors: Error[] = [];
  xmpp.on('error', (e) => errors.push(e));
  return { server, xmpp, errors };
}

async function online() {
  const ctx = setup();
  const started = ctx.xmpp.start();
  const peer = await ctx.server.nextConnection();
  await peer.login({ jid: OWN });
  await started;
  return { ...ctx, peer };
}

/** The next iq the client sends with this id. */
const reply = (peer: ServerConnection, iqId: string): Promise<Element> => peer.next((el) => el.name === 'iq' && el.attrs.id === iqId);

afterEach(() => {
  vi.useRealTimers();
});

describe('isValidReplyFrom()', () => {
  const own = jid(OWN);
  const domain = 'localhost';
  // [request to, reply from, valid]
  const table: Array<[string | undefined, string | undefined, boolean]> = [
    // no `to`: the server answers on behalf of the account
    [undefined, undefined, true],
    [undefined, 'user@localhost', true],
    [undefined, OWN, true],
    [undefined, 'localhost', true],
    [undefined, 'juliet@example.com', false],
    [undefined, 'user@localhost/other', false],
    [undefined, 'a@@b', false],
    // our own bare JID: the same as no `to`, except that the domain may not answer
    ['user@localhost', undefined, true],
    ['user@localhost', 'user@localhost', true],
    ['user@localhost', OWN, true],
    ['user@localhost', 'localhost', false],
    ['user@localhost', 'juliet@example.com', false],
    ['user@localhost', 'a@@b', false],
    // our own full JID: only ourselves
    [OWN, undefined, true],
    [OWN, OWN, true],
    [OWN, 'user@localhost', false],
    [OWN, 'localhost', false],
    [OWN, 'juliet@example.com', false],
    [OWN, 'a@@b', false],
    // the domain: only the domain
    ['localhost', 'localhost', true],
    ['localhost', undefined, false],
    ['localhost', 'user@localhost', false],
    ['localhost', OWN, false],
    ['localhost', 'juliet@example.com', false],
    ['localhost', 'a@@b', false],
    // another entity: only that entity, compared as JIDs
    ['juliet@example.com/balcony', 'juliet@example.com/balcony', true],
    ['juliet@example.com/balcony', 'Juliet@EXAMPLE.com/balcony', true],
    ['juliet@example.com/balcony', 'juliet@example.com', false],
    ['juliet@example.com/balcony', 'juliet@example.com/Balcony', false],
    ['juliet@example.com/balcony', undefined, false],
    ['juliet@example.com/balcony', 'localhost', false],
    ['juliet@example.com/balcony', 'user@localhost', false],
    ['juliet@example.com/balcony', OWN, false],
    ['juliet@example.com/balcony', 'a@@b', false],
    ['juliet@example.com', 'juliet@example.com', true],
    ['juliet@example.com', 'juliet@example.com/balcony', false],
  ];

  it.each(table)('request to %s, reply from %s: %s', (to, from, valid) => {
    expect(isValidReplyFrom(to, from, own, domain)).toBe(valid);
  });

  it('before binding (no own JID), accepts only no from or the domain for requests with no to', () => {
    expect(isValidReplyFrom(undefined, undefined, null, domain)).toBe(true);
    expect(isValidReplyFrom(undefined, 'localhost', null, domain)).toBe(true);
    expect(isValidReplyFrom(undefined, 'user@localhost', null, domain)).toBe(false);
    expect(isValidReplyFrom('localhost', 'localhost', null, domain)).toBe(true);
    expect(isValidReplyFrom('localhost', undefined, null, domain)).toBe(false);
  });
});

describe('id()', () => {
  it('returns distinct non-empty ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => id()));
    expect(ids.size).toBe(1000);
    for (const value of ids) expect(value).toMatch(/^[0-9a-z]+$/);
  });
});

describe('iqError()', () => {
  it('builds an error reply addressed to the sender with the same id', () => {
    const error = iqError(xml('iq', { type: 'get', id: 'q1', from: 'juliet@example.com/b' }), 'not-allowed', 'cancel', 'no');
    expect(error.attrs).toMatchObject({ type: 'error', id: 'q1', to: 'juliet@example.com/b' });
    const child = error.getChild('error');
    expect(child?.attrs.type).toBe('cancel');
    expect(child?.getChild('not-allowed', NS_STANZAS)).toBeDefined();
    expect(child?.getChildText('text', NS_STANZAS)).toBe('no');
  });
});

describe('iqCaller', () => {
  it('gives requests without an id a fresh one and keeps a given id', async () => {
    const { xmpp, peer } = await online();
    const first = xml('iq', { type: 'get', to: 'localhost' }, xml('ping', 'urn:xmpp:ping'));
    const second = xml('iq', { type: 'get', to: 'localhost' }, xml('ping', 'urn:xmpp:ping'));
    const own = xml('iq', { type: 'get', to: 'localhost', id: 'mine' }, xml('ping', 'urn:xmpp:ping'));
    const requests = [xmpp.iqCaller.request(first), xmpp.iqCaller.request(second), xmpp.iqCaller.request(own)];
    const ids = [first.attrs.id, second.attrs.id, own.attrs.id];
    expect(ids[0]).toBeTruthy();
    expect(ids[1]).toBeTruthy();
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[2]).toBe('mine');
    expect(xmpp.iqCaller.pending).toBe(3);
    for (const iqId of ids) {
      const sent = await reply(peer, iqId as string);
      peer.send(xml('iq', { type: 'result', id: sent.attrs.id, from: 'localhost' }));
    }
    const replies = await Promise.all(requests);
    expect(replies.map((r) => r.attrs.id)).toEqual(ids);
    expect(xmpp.iqCaller.pending).toBe(0);
    await xmpp.stop();
  });

  it('rejects a request that cannot be sent and removes its pending entry', async () => {
    vi.useFakeTimers();
    const { xmpp } = setup();
    const request = xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    await expect(request).rejects.toBeInstanceOf(ConnectionError);
    await expect(request).rejects.toMatchObject({ condition: 'not-connected' });
    expect(xmpp.iqCaller.pending).toBe(0);
    // its timeout timer went with it
    expect(vi.getTimerCount()).toBe(0);
  });

  it('get() and set() resolve with the reply child of the same name and namespace, or undefined', async () => {
    const { xmpp, peer } = await online();

    const version = xmpp.iqCaller.get(xml('query', 'jabber:iq:version'), 'localhost');
    let iq = await peer.next('iq');
    expect(iq.attrs.type).toBe('get');
    expect(iq.attrs.to).toBe('localhost');
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'localhost' }, xml('query', 'jabber:iq:version', xml('name', {}, 'server'))));
    expect((await version)?.getChildText('name')).toBe('server');

    const empty = xmpp.iqCaller.set(xml('query', 'jabber:iq:private', xml('x', 'urn:x')));
    iq = await peer.next('iq');
    expect(iq.attrs.type).toBe('set');
    expect(iq.attrs.to).toBeUndefined();
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id }));
    await expect(empty).resolves.toBeUndefined();

    const otherNs = xmpp.iqCaller.get(xml('query', 'jabber:iq:roster'));
    iq = await peer.next('iq');
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id }, xml('query', 'jabber:iq:private')));
    await expect(otherNs).resolves.toBeUndefined();

    const failing = xmpp.iqCaller.set(xml('query', 'jabber:iq:roster'));
    iq = await peer.next('iq');
    peer.send(xml('iq', { type: 'error', id: iq.attrs.id }, xml('error', { type: 'auth' }, xml('forbidden', NS_STANZAS))));
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StanzaError);
    expect(error).toMatchObject({ condition: 'forbidden', type: 'auth' });
    await xmpp.stop();
  });

  it('rejects with TimeoutError after its timeout, leaves no pending entry, and ignores a late reply', async () => {
    const { xmpp, peer, errors } = await online();
    vi.useFakeTimers();
    const request = xmpp.iqCaller.get(xml('ping', 'urn:xmpp:ping'), 'localhost', 500);
    request.catch(() => undefined);
    const iq = await peer.next('iq');
    await vi.advanceTimersByTimeAsync(499);
    expect(xmpp.iqCaller.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(request).rejects.toBeInstanceOf(TimeoutError);
    expect(xmpp.iqCaller.pending).toBe(0);
    // the late result is neither an error nor answered
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'localhost' }));
    peer.send(xml('iq', { type: 'get', id: 'after', from: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    const next = await peer.next('iq');
    expect(next.attrs).toMatchObject({ type: 'result', id: 'after' });
    expect(errors).toEqual([]);
    vi.useRealTimers();
    await xmpp.stop();
  });

  it('ignores a reply from the wrong entity and still accepts the right one', async () => {
    const { xmpp, peer } = await online();
    const request = xmpp.iqCaller.get(xml('query', 'jabber:iq:version'), 'localhost');
    const iq = await peer.next('iq');
    peer.send(xml('iq', { type: 'error', id: iq.attrs.id, from: 'evil.example' }, xml('error', { type: 'cancel' }, xml('forbidden', NS_STANZAS))));
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'localhost' }, xml('query', 'jabber:iq:version')));
    await expect(request).resolves.toBeDefined();
    await xmpp.stop();
  });
});

describe('iqCallee', () => {
  it('replies with the error element a handler returns', async () => {
    const { xmpp, peer } = await online();
    xmpp.iqCallee.get('urn:test', 'q', () => xml('error', { type: 'modify' }, xml('not-acceptable', NS_STANZAS), xml('text', NS_STANZAS, 'nope')));
    peer.send(xml('iq', { type: 'get', id: 'e1', from: 'juliet@example.com/b' }, xml('q', 'urn:test')));
    const answer = await reply(peer, 'e1');
    expect(answer.attrs).toMatchObject({ type: 'error', id: 'e1', to: 'juliet@example.com/b' });
    const error = answer.getChild('error');
    expect(error?.attrs.type).toBe('modify');
    expect(error?.getChild('not-acceptable', NS_STANZAS)).toBeDefined();
    expect(error?.getChildText('text', NS_STANZAS)).toBe('nope');
    await xmpp.stop();
  });

  it('replies with an empty result for true and with the payload for an element', async () => {
    const { xmpp, peer } = await online();
    xmpp.iqCallee.set('urn:test', 'flag', () => true);
    xmpp.iqCallee.get('urn:test', 'data', async () => xml('data', 'urn:test', xml('v', {}, '42')));
    peer.send(xml('iq', { type: 'set', id: 't1', from: 'localhost' }, xml('flag', 'urn:test')));
    const empty = await reply(peer, 't1');
    expect(empty.attrs).toMatchObject({ type: 'result', id: 't1', to: 'localhost' });
    expect(empty.getChildElements()).toEqual([]);
    peer.send(xml('iq', { type: 'get', id: 't2', from: 'localhost' }, xml('data', 'urn:test')));
    expect((await reply(peer, 't2')).getChild('data', 'urn:test')?.getChildText('v')).toBe('42');
    await xmpp.stop();
  });

  it('answers service-unavailable when a handler returns a falsy value', async () => {
    const { xmpp, peer } = await online();
    const seen = vi.fn();
    for (const [name, value] of [['u', undefined], ['n', null], ['f', false], ['z', 0], ['s', '']] as const) {
      xmpp.iqCallee.get('urn:test', name, (ctx) => {
        seen(ctx.element.name);
        return value;
      });
    }
    for (const name of ['u', 'n', 'f', 'z', 's']) {
      peer.send(xml('iq', { type: 'get', id: `f-${name}`, from: 'localhost' }, xml(name, 'urn:test')));
      const answer = await reply(peer, `f-${name}`);
      expect(answer.attrs.type, name).toBe('error');
      expect(answer.getChild('error')?.attrs.type).toBe('cancel');
      expect(answer.getChild('error')?.getChild('service-unavailable', NS_STANZAS), name).toBeDefined();
    }
    expect(seen.mock.calls.map((c) => c[0])).toEqual(['u', 'n', 'f', 'z', 's']);
    await xmpp.stop();
  });

  it('answers internal-server-error and emits error when a handler throws something else than a StanzaError', async () => {
    const { xmpp, peer, errors } = await online();
    const boom = new TypeError('handler bug');
    xmpp.iqCallee.set('urn:test', 'crash', () => {
      throw boom;
    });
    peer.send(xml('iq', { type: 'set', id: 'c1', from: 'localhost' }, xml('crash', 'urn:test')));
    const answer = await reply(peer, 'c1');
    expect(answer.attrs).toMatchObject({ type: 'error', id: 'c1' });
    expect(answer.getChild('error')?.getChild('internal-server-error', NS_STANZAS)).toBeDefined();
    // the details stay local
    expect(answer.toString()).not.toContain('handler bug');
    expect(errors).toEqual([boom]);
    await xmpp.stop();
  });

  it('answers with the condition and type of a thrown StanzaError', async () => {
    const { xmpp, peer, errors } = await online();
    xmpp.iqCallee.get('urn:test', 'auth', () => {
      throw new StanzaError('forbidden', { text: 'members only' });
    });
    xmpp.iqCallee.get('urn:test', 'wait', () => {
      throw new StanzaError('resource-constraint', { type: 'wait' });
    });
    peer.send(xml('iq', { type: 'get', id: 's1', from: 'localhost' }, xml('auth', 'urn:test')));
    const forbidden = (await reply(peer, 's1')).getChild('error');
    expect(forbidden?.attrs.type).toBe('auth');
    expect(forbidden?.getChild('forbidden', NS_STANZAS)).toBeDefined();
    expect(forbidden?.getChildText('text', NS_STANZAS)).toBe('members only');
    peer.send(xml('iq', { type: 'get', id: 's2', from: 'localhost' }, xml('wait', 'urn:test')));
    const wait = (await reply(peer, 's2')).getChild('error');
    expect(wait?.attrs.type).toBe('wait');
    expect(wait?.getChild('resource-constraint', NS_STANZAS)).toBeDefined();
    expect(errors).toEqual([]);
    await xmpp.stop();
  });

  it('routes by type: a get handler does not answer a set', async () => {
    const { xmpp, peer } = await online();
    const handler = vi.fn(() => true);
    xmpp.iqCallee.get('urn:test', 'only-get', handler);
    peer.send(xml('iq', { type: 'set', id: 'r1', from: 'localhost' }, xml('only-get', 'urn:test')));
    expect((await reply(peer, 'r1')).getChild('error')?.getChild('service-unavailable', NS_STANZAS)).toBeDefined();
    expect(handler).not.toHaveBeenCalled();
    await xmpp.stop();
  });

  it('ignores results and errors with unknown ids: no reply is sent', async () => {
    const { xmpp, peer, errors } = await online();
    const before = peer.received.length;
    peer.send(xml('iq', { type: 'result', id: 'unknown-1', from: 'localhost' }));
    peer.send(xml('iq', { type: 'error', id: 'unknown-2', from: 'localhost' }, xml('error', { type: 'cancel' }, xml('item-not-found', NS_STANZAS))));
    peer.send(xml('iq', { type: 'result', from: 'localhost' }));
    peer.send(xml('iq', { type: 'get', id: 'marker', from: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    const marker = await reply(peer, 'marker');
    expect(marker.attrs.type).toBe('result');
    // the ping reply is the only thing the client sent since
    expect(peer.received.slice(before)).toEqual([marker]);
    expect(errors).toEqual([]);
    await xmpp.stop();
  });
});
