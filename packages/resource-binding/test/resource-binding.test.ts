import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, xml, StanzaError, type ClientOptions, type Element } from '@xmppkit/client';
import { NS_BIND, NS_SESSION } from '@xmppkit/resource-binding';
import { ScriptedServer, type ServerConnection } from '@xmppkit/test';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

function setup(extra: Partial<ClientOptions> = {}) {
  const server = new ScriptedServer();
  const xmpp = client({
    service: 'memory://localhost',
    username: 'user',
    password: 'pencil',
    transports: [server.factory],
    timeout: 2000,
    reconnect: false,
    streamManagement: { enabled: false },
    ...extra,
  });
  const errors: Error[] = [];
  xmpp.on('error', (e) => errors.push(e));
  return { server, xmpp, errors };
}

const isBind = (el: Element): boolean => el.name === 'iq' && el.getChild('bind', NS_BIND) !== undefined;
const isSession = (el: Element): boolean => el.name === 'iq' && el.getChild('session', NS_SESSION) !== undefined;

/** Authenticate, offer `features` after the restart, and return the client's bind request. */
async function untilBind(server: ScriptedServer, features: Element[] = [xml('bind', NS_BIND)]): Promise<{ peer: ServerConnection; bind: Element }> {
  const peer = await server.nextConnection();
  await peer.authenticate({ features });
  const bind = await peer.next(isBind);
  return { peer, bind };
}

const bindResult = (bind: Element, jid: string): Element => xml('iq', { type: 'result', id: bind.attrs.id }, xml('bind', NS_BIND, xml('jid', {}, jid)));

afterEach(() => {
  vi.useRealTimers();
});

describe('resource binding', () => {
  it('lets the server assign the resource when none is given', async () => {
    const { server, xmpp } = setup();
    const online = vi.fn();
    xmpp.on('online', online);
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server);
    expect(bind.attrs.type).toBe('set');
    expect(bind.getChild('bind', NS_BIND)?.getChildElements()).toEqual([]);
    peer.send(bindResult(bind, 'user@localhost/server-chose-1'));
    const jid = await started;
    expect(jid.toString()).toBe('user@localhost/server-chose-1');
    expect(xmpp.jid?.resource).toBe('server-chose-1');
    expect(online).toHaveBeenCalledExactlyOnceWith(jid);
    await xmpp.stop();
  });

  it('asks for the given resource and takes the one the server returns', async () => {
    const { server, xmpp } = setup({ resource: 'laptop' });
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server);
    expect(bind.getChild('bind', NS_BIND)?.getChildText('resource')).toBe('laptop');
    // servers may change the requested resource
    peer.send(bindResult(bind, 'user@localhost/laptop-x1'));
    expect((await started).toString()).toBe('user@localhost/laptop-x1');
    await xmpp.stop();
  });

  it('calls an async resource function and binds what it resolves to', async () => {
    const resource = vi.fn(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return 'from-async';
    });
    const { server, xmpp } = setup({ resource });
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server);
    expect(resource).toHaveBeenCalledOnce();
    expect(bind.getChild('bind', NS_BIND)?.getChildText('resource')).toBe('from-async');
    peer.send(bindResult(bind, 'user@localhost/from-async'));
    expect((await started).resource).toBe('from-async');
    await xmpp.stop();
  });

  it('lets the server choose when the resource function returns nothing', async () => {
    const { server, xmpp } = setup({ resource: async () => undefined });
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server);
    expect(bind.getChild('bind', NS_BIND)?.getChild('resource')).toBeUndefined();
    peer.send(bindResult(bind, 'user@localhost/auto'));
    expect((await started).resource).toBe('auto');
    await xmpp.stop();
  });

  it('establishes the legacy session when <session/> is offered without <optional/>', async () => {
    const { server, xmpp, errors } = setup({ resource: 'r' });
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server, [xml('bind', NS_BIND), xml('session', NS_SESSION)]);
    peer.send(bindResult(bind, 'user@localhost/r'));
    const session = await peer.next(isSession);
    expect(session.attrs.type).toBe('set');
    expect(xmpp.status).toBe('open');
    peer.send(xml('iq', { type: 'result', id: session.attrs.id }));
    await started;
    expect(xmpp.status).toBe('online');
    const iqs = peer.received.filter((el) => el.name === 'iq');
    expect(iqs.map((el) => (isBind(el) ? 'bind' : isSession(el) ? 'session' : el.toString()))).toEqual(['bind', 'session']);
    expect(errors).toEqual([]);
    await xmpp.stop();
  });

  it('skips the legacy session when <session/> is marked <optional/>', async () => {
    const { server, xmpp } = setup({ resource: 'r' });
    const started = xmpp.start();
    const { peer, bind } = await untilBind(server, [xml('bind', NS_BIND), xml('session', NS_SESSION, xml('optional'))]);
    peer.send(bindResult(bind, 'user@localhost/r'));
    await started;
    // a ping round trip proves nothing else is on its way
    peer.send(xml('iq', { type: 'get', id: 'ping-1', from: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    await peer.next((el) => el.attrs.id === 'ping-1');
    expect(peer.received.filter(isSession)).toEqual([]);
    await xmpp.stop();
  });

  it('rejects start() with the StanzaError of a bind error reply and ends offline', async () => {
    const { server, xmpp, errors } = setup({ resource: 'taken' });
    const started = xmpp.start();
    started.catch(() => undefined);
    const { peer, bind } = await untilBind(server);
    peer.send(xml('iq', { type: 'error', id: bind.attrs.id }, xml('error', { type: 'cancel' }, xml('conflict', NS_STANZAS))));
    const error = await started.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StanzaError);
    expect(error).toMatchObject({ condition: 'conflict', type: 'cancel' });
    expect(errors).toContain(error);
    expect(xmpp.status).toBe('offline');
    expect(xmpp.jid).toBeNull();
  });

  it('rejects start() when the legacy session is refused', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    started.catch(() => undefined);
    const { peer, bind } = await untilBind(server, [xml('bind', NS_BIND), xml('session', NS_SESSION)]);
    peer.send(bindResult(bind, 'user@localhost/r'));
    const session = await peer.next(isSession);
    peer.send(xml('iq', { type: 'error', id: session.attrs.id }, xml('error', { type: 'wait' }, xml('internal-server-error', NS_STANZAS))));
    await expect(started).rejects.toMatchObject({ name: 'StanzaError', condition: 'internal-server-error' });
    expect(xmpp.status).toBe('offline');
  });

  it('rejects start() when the bind result carries no JID', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    started.catch(() => undefined);
    const { peer, bind } = await untilBind(server);
    peer.send(xml('iq', { type: 'result', id: bind.attrs.id }, xml('bind', NS_BIND)));
    await expect(started).rejects.toThrow(/did not return a bound JID/);
    expect(xmpp.status).toBe('offline');
  });
});
