import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, xml, SASLError, StreamError, TimeoutError, StanzaError, type Status } from '@xmppkit/client';
import { ScriptedServer, tick } from '@xmppkit/test';

function setup(extra: Parameters<typeof client>[0] extends infer O ? Partial<O> : never = {}) {
  const server = new ScriptedServer();
  const xmpp = client({ service: 'memory://localhost', username: 'user', password: 'pencil', transports: [server.factory], timeout: 2000, ...extra });
  const statuses: Status[] = [];
  xmpp.on('status', (s) => statuses.push(s));
  const errors: Error[] = [];
  xmpp.on('error', (e) => errors.push(e));
  return { server, xmpp, statuses, errors };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('client() against a scripted server', () => {
  it('logs in, binds and goes online through every status in order', async () => {
    const { server, xmpp, statuses } = setup({ resource: 'res' });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ jid: 'user@localhost/res' });
    const jid = await started;
    expect(jid.toString()).toBe('user@localhost/res');
    expect(xmpp.jid?.toString()).toBe('user@localhost/res');
    expect(xmpp.status).toBe('online');
    expect(statuses).toEqual(['connecting', 'connect', 'opening', 'open', 'opening', 'open', 'online']);
    // the stream header carries our bare JID
    expect(peer.headers[0]).toMatchObject({ to: 'localhost', version: '1.0', from: 'user@localhost' });
    const auth = peer.received.find((el) => el.name === 'auth');
    expect(auth?.attrs.mechanism).toBe('PLAIN');
    expect(Buffer.from(auth?.text() ?? '', 'base64').toString()).toBe('\0user\0pencil');
    const bind = peer.received.find((el) => el.name === 'iq');
    expect(bind?.getChild('bind')?.getChildText('resource')).toBe('res');

    const stopping = xmpp.stop();
    await stopping;
    expect(xmpp.status).toBe('offline');
    expect(statuses.slice(-5)).toEqual(['closing', 'close', 'disconnecting', 'disconnect', 'offline']);
  });

  it('emits status events with the event of the same name', async () => {
    const { server, xmpp } = setup();
    const online = vi.fn();
    const disconnect = vi.fn();
    xmpp.on('online', online);
    xmpp.on('disconnect', disconnect);
    const started = xmpp.start();
    await (await server.nextConnection()).login();
    await started;
    expect(online).toHaveBeenCalledOnce();
    await xmpp.stop();
    expect(disconnect).toHaveBeenCalledWith({ clean: true });
  });

  it('calls a resource function', async () => {
    const { server, xmpp } = setup({ resource: async () => 'from-fn' });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    expect(peer.received.find((el) => el.name === 'iq')?.getChild('bind')?.getChildText('resource')).toBe('from-fn');
    await xmpp.stop();
  });

  it('rejects start() on a wrong password with SASLError, ends offline and does not retry', async () => {
    const { server, xmpp, errors } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ authFailure: 'not-authorized' });
    await expect(started).rejects.toBeInstanceOf(SASLError);
    await expect(started).rejects.toMatchObject({ condition: 'not-authorized' });
    expect(xmpp.status).toBe('offline');
    expect(errors[0]).toBeInstanceOf(SASLError);
    await tick();
    expect(server.connections).toHaveLength(1);
  });

  it('refuses PLAIN-only servers over insecure non-loopback links unless allowed', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    Object.defineProperty(peer.transport, 'loopback', { value: false });
    await peer.nextHeader();
    peer.sendHeader();
    peer.sendFeatures(xml('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl', xml('mechanism', {}, 'PLAIN')));
    await expect(started).rejects.toThrow(/only PLAIN over an unencrypted connection/);
    expect(peer.received.find((el) => el.name === 'auth')).toBeUndefined();
  });

  it('rejects start() when the connection is refused', async () => {
    const { server, xmpp } = setup();
    server.refuse = true;
    await expect(xmpp.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(xmpp.status).toBe('offline');
  });

  it('rejects start() with TimeoutError when the server never answers the connect', async () => {
    vi.useFakeTimers();
    const { server, xmpp } = setup();
    server.hang = true;
    const started = xmpp.start();
    started.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(2001);
    await expect(started).rejects.toBeInstanceOf(TimeoutError);
    expect(xmpp.status).toBe('offline');
  });

  it('rejects start() with TimeoutError when the server goes silent during login', async () => {
    vi.useFakeTimers();
    const { server, xmpp } = setup();
    const started = xmpp.start();
    started.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    const peer = await server.nextConnection();
    await peer.nextHeader();
    peer.sendHeader();
    await vi.advanceTimersByTimeAsync(2000 * 3);
    await expect(started).rejects.toBeInstanceOf(TimeoutError);
    expect(xmpp.status).toBe('offline');
  });

  it('can start again after a failed start', async () => {
    const { server, xmpp } = setup();
    server.refuse = true;
    await expect(xmpp.start()).rejects.toThrow();
    server.refuse = false;
    const started = xmpp.start();
    await (await server.nextConnection()).login();
    await expect(started).resolves.toBeTruthy();
    await xmpp.stop();
  });

  it('rejects a second start() while running', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    await expect(xmpp.start()).rejects.toThrow(/needs status offline/);
    await (await server.nextConnection()).login();
    await started;
    await xmpp.stop();
  });

  it('reports a stream error from the server, then disconnects', async () => {
    const { server, xmpp, errors, statuses } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    peer.sendStreamError('conflict', 'Replaced by new connection');
    peer.closeStream();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect(errors[0]).toMatchObject({ condition: 'conflict', text: 'Replaced by new connection' });
    expect(statuses).toContain('disconnect');
  });

  it('answers malformed XML with a bad-format stream error and disconnects', async () => {
    const { server, xmpp, errors } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    peer.sendRaw('<message><body>oops</message>');
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect((errors[0] as StreamError).condition).toBe('bad-format');
    const sent = peer.received.find((el) => el.name === 'stream:error');
    expect(sent?.getChild('bad-format', 'urn:ietf:params:xml:ns:xmpp-streams')).toBeDefined();
  });

  it('answers an oversized stanza with policy-violation', async () => {
    const { server, xmpp, errors } = setup({ maxStanzaSize: 4096 });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    const stanzas: unknown[] = [];
    xmpp.on('stanza', (s) => stanzas.push(s));
    peer.sendRaw(`<message><body>${'x'.repeat(10_000)}</body></message>`);
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    expect((errors[0] as StreamError).condition).toBe('policy-violation');
    expect(stanzas).toEqual([]);
    expect(peer.received.find((el) => el.name === 'stream:error')?.getChild('policy-violation')).toBeDefined();
  });

  it('follows see-other-host while starting', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    started.catch(() => undefined);
    const first = await server.nextConnection();
    await first.nextHeader();
    first.sendHeader();
    first.sendStreamError('see-other-host', undefined);
    // see-other-host needs the new host as text
    const second = server.nextConnection();
    await expect(Promise.race([second, new Promise((r) => setTimeout(() => r('none'), 50))])).resolves.toBe('none');
    await expect(started).rejects.toBeInstanceOf(StreamError);
  });

  it('reconnects to the see-other-host target', async () => {
    const { server, xmpp } = setup();
    const services: string[] = [];
    xmpp.on('connecting', (s) => services.push(s));
    const started = xmpp.start();
    const first = await server.nextConnection();
    await first.nextHeader();
    first.sendHeader();
    first.send(
      xml('stream:error', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('see-other-host', 'urn:ietf:params:xml:ns:xmpp-streams', 'other.example:5281')),
    );
    const second = await server.nextConnection();
    await second.login();
    await started;
    expect(services).toEqual(['memory://localhost', 'memory://other.example:5281']);
    await xmpp.stop();
  });

  it('sends stanzas, and outgoing filters run before the write and can change or drop', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    xmpp.middleware.filter((ctx, next) => {
      if (ctx.stanza.attrs.drop) return undefined;
      ctx.stanza = xml(ctx.stanza.name, { ...ctx.stanza.attrs, filtered: 'yes' }, ...ctx.stanza.children);
      return next();
    });
    const sent: string[] = [];
    xmpp.on('send', (el) => sent.push(el.toString()));
    await xmpp.send(xml('message', { to: 'a@localhost', drop: '1' }));
    await xmpp.send(xml('message', { to: 'b@localhost' }, xml('body', {}, 'hi')));
    const msg = await peer.next('message');
    expect(msg.attrs).toMatchObject({ to: 'b@localhost', filtered: 'yes' });
    expect(peer.received.filter((el) => el.name === 'message')).toHaveLength(1);
    expect(sent).toEqual(['<message to="b@localhost" filtered="yes"><body>hi</body></message>']);
    await xmpp.stop();
  });

  it('incoming middleware sees stanzas with parsed from/to', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ jid: 'user@localhost/r' });
    await started;
    const seen = new Promise<string>((resolve) =>
      xmpp.middleware.use((ctx, next) => {
        if (ctx.stanza.is('message')) resolve(`${ctx.from?.toString()} ${ctx.to?.toString()} ${ctx.type} ${ctx.local}`);
        return next();
      }),
    );
    peer.send(xml('message', { from: 'Juliet@Example.com/balcony' }, xml('body', {}, 'hi')));
    expect(await seen).toBe('juliet@example.com/balcony user@localhost/r normal juliet');
    await xmpp.stop();
  });

  it('answers pings, unknown IQs with service-unavailable and malformed IQs with bad-request', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    peer.send(xml('iq', { type: 'get', id: 'p1', from: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    expect((await peer.next((el) => el.attrs.id === 'p1')).attrs).toMatchObject({ type: 'result', to: 'localhost' });
    peer.send(xml('iq', { type: 'get', id: 'u1', from: 'localhost' }, xml('query', 'urn:unknown')));
    const unknown = await peer.next((el) => el.attrs.id === 'u1');
    expect(unknown.attrs.type).toBe('error');
    expect(unknown.getChild('error')?.getChild('service-unavailable')).toBeDefined();
    peer.send(xml('iq', { type: 'get', id: 'm1', from: 'localhost' }, xml('a', 'urn:a'), xml('b', 'urn:b')));
    expect((await peer.next((el) => el.attrs.id === 'm1')).getChild('error')?.getChild('bad-request')).toBeDefined();
    xmpp.iqCallee.set('urn:test', 'op', (ctx) => {
      if (ctx.element.attrs.fail) throw new StanzaError('not-allowed');
      return xml('done', 'urn:test');
    });
    peer.send(xml('iq', { type: 'set', id: 's1', from: 'localhost' }, xml('op', 'urn:test')));
    expect((await peer.next((el) => el.attrs.id === 's1')).getChild('done')).toBeDefined();
    peer.send(xml('iq', { type: 'set', id: 's2', from: 'localhost' }, xml('op', { xmlns: 'urn:test', fail: '1' })));
    const denied = await peer.next((el) => el.attrs.id === 's2');
    expect(denied.getChild('error')?.getChild('not-allowed')).toBeDefined();
    await xmpp.stop();
  });

  it('iqCaller accepts replies only from the entity asked, and rejects pending requests on disconnect', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ jid: 'user@localhost/r' });
    await started;
    const request = xmpp.iqCaller.get(xml('query', 'jabber:iq:version'), 'juliet@example.com/balcony');
    const iq = await peer.next('iq');
    // a spoofed reply from someone else is ignored
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'mallory@evil.example/x' }, xml('query', 'jabber:iq:version', xml('name', {}, 'fake'))));
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'juliet@example.com/balcony' }, xml('query', 'jabber:iq:version', xml('name', {}, 'real'))));
    expect((await request)?.getChildText('name')).toBe('real');

    const own = xmpp.iqCaller.get(xml('query', 'jabber:iq:roster'));
    const rosterIq = await peer.next('iq');
    peer.send(xml('iq', { type: 'result', id: rosterIq.attrs.id, from: 'user@localhost' }, xml('query', 'jabber:iq:roster')));
    await expect(own).resolves.toBeDefined();

    const failing = xmpp.iqCaller.get(xml('query', 'jabber:iq:last'), 'localhost');
    const lastIq = await peer.next('iq');
    peer.send(xml('iq', { type: 'error', id: lastIq.attrs.id, from: 'localhost' }, xml('error', { type: 'cancel' }, xml('feature-not-implemented', 'urn:ietf:params:xml:ns:xmpp-stanzas'))));
    await expect(failing).rejects.toMatchObject({ name: 'StanzaError', condition: 'feature-not-implemented', type: 'cancel' });

    const pending = xmpp.iqCaller.get(xml('ping', 'urn:xmpp:ping'), 'localhost');
    await peer.next('iq');
    peer.cut();
    await expect(pending).rejects.toMatchObject({ condition: 'disconnected' });
    expect(xmpp.iqCaller.pending).toBe(0);
  });

  it('iqCaller times out after the default 30 s', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login();
    await started;
    vi.useFakeTimers();
    const request = xmpp.iqCaller.get(xml('ping', 'urn:xmpp:ping'), 'localhost');
    request.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(xmpp.iqCaller.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(request).rejects.toBeInstanceOf(TimeoutError);
    vi.useRealTimers();
    await xmpp.stop();
  });

  it('every property it returns is defined', () => {
    const { xmpp } = setup();
    for (const key of ['middleware', 'streamFeatures', 'iqCaller', 'iqCallee', 'sasl', 'resourceBinding', 'transports', 'options'] as const) {
      expect(xmpp[key], key).toBeDefined();
    }
    expect(xmpp.status).toBe('offline');
  });

  it('debug: false keeps logging off even when XMPPKIT_DEBUG is set', () => {
    vi.stubEnv('XMPPKIT_DEBUG', '1');
    try {
      const off = setup({ debug: false }).xmpp;
      const on = setup().xmpp;
      expect(off.listenerCount('send')).toBe(0);
      expect(on.listenerCount('send')).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
