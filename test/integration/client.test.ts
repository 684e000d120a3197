import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { client, xml, jid, SASLError, StreamError, type XMPPClient } from '@xmppkit/client';
import { prosody } from '../setup/servers.js';

const server = prosody();
const clients: XMPPClient[] = [];

function make(username: string, options: Partial<Parameters<typeof client>[0]> = {}): XMPPClient {
  const xmpp = client({ service: server.service, domain: server.domain, username, password: server.accounts[username], ...options });
  clients.push(xmpp);
  return xmpp;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
});

describe('client() against Prosody', () => {
  it('logs in with SCRAM-SHA-1 (PBKDF2 on WebCrypto) and binds the requested resource', async () => {
    const xmpp = make('alice', { resource: 'scram' });
    const t0 = performance.now();
    const address = await xmpp.start();
    const ms = performance.now() - t0;
    console.log(`SCRAM-SHA-1 login to online: ${ms.toFixed(1)} ms`);
    expect(address.toString()).toBe('alice@localhost/scram');
    expect(xmpp.sasl.mechanism).toBe('SCRAM-SHA-1');
    expect(xmpp.status).toBe('online');
  });

  it('logs in with PLAIN on loopback when asked to', async () => {
    const xmpp = make('bob', { sasl: { mechanisms: ['PLAIN'] } });
    const address = await xmpp.start();
    expect(xmpp.sasl.mechanism).toBe('PLAIN');
    expect(address.bare().toString()).toBe('bob@localhost');
    expect(address.resource).not.toBe('');
  });

  it('rejects a wrong password with SASLError not-authorized and makes one attempt only', async () => {
    const xmpp = make('carol', { password: 'wrong' });
    const connecting: string[] = [];
    xmpp.on('connecting', (s) => connecting.push(s));
    const error = await xmpp.start().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SASLError);
    expect(error).toMatchObject({ condition: 'not-authorized' });
    expect(xmpp.status).toBe('offline');
    await new Promise((r) => setTimeout(r, 200));
    expect(connecting).toHaveLength(1);
  });

  it('rejects start() when the server is unreachable', async () => {
    const xmpp = make('alice', { service: 'ws://127.0.0.1:9/xmpp-websocket' });
    await expect(xmpp.start()).rejects.toMatchObject({ condition: 'connection-failed' });
    expect(xmpp.status).toBe('offline');
  });

  it('pings the server (XEP-0199 round trip)', async () => {
    const xmpp = make('alice');
    await xmpp.start();
    const reply = await xmpp.iqCaller.request(xml('iq', { type: 'get', to: server.domain }, xml('ping', 'urn:xmpp:ping')));
    expect(reply.attrs.type).toBe('result');
    // and the roster, from our own account
    const roster = await xmpp.iqCaller.get(xml('query', 'jabber:iq:roster'));
    expect(roster?.attrs.xmlns).toBe('jabber:iq:roster');
  });

  it('delivers a message between two clients', async () => {
    const alice = make('alice', { resource: 'a' });
    const bob = make('bob', { resource: 'b' });
    await Promise.all([alice.start(), bob.start()]);
    const received = once(bob, 'stanza');
    await alice.send(xml('message', { to: 'bob@localhost/b', type: 'chat', id: 'm1' }, xml('body', {}, 'hello bob ☕')));
    const [stanza] = (await received) as [ReturnType<typeof xml>];
    expect(stanza.name).toBe('message');
    expect(jid(stanza.attrs.from ?? '').toString()).toBe('alice@localhost/a');
    expect(stanza.getChildText('body')).toBe('hello bob ☕');
  });

  it('stop() closes the stream cleanly and goes offline', async () => {
    const xmpp = make('alice');
    await xmpp.start();
    const statuses: string[] = [];
    xmpp.on('status', (s) => statuses.push(s));
    const closed = once(xmpp, 'close');
    const disconnected = once(xmpp, 'disconnect');
    await xmpp.stop();
    expect(statuses).toEqual(['closing', 'close', 'disconnecting', 'disconnect', 'offline']);
    expect(await closed).toEqual([{ clean: true }]);
    expect(await disconnected).toEqual([{ clean: true }]);
    await expect(xmpp.send(xml('presence'))).rejects.toMatchObject({ condition: 'not-connected' });
  });

  it('gets a conflict stream error when the same resource logs in twice', async () => {
    const first = make('user1', { resource: 'same' });
    await first.start();
    const errors: Error[] = [];
    first.on('error', (e) => errors.push(e));
    const disconnected = new Promise((resolve) => first.once('disconnect', resolve));
    const second = make('user1', { resource: 'same' });
    await second.start();
    await disconnected;
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect(errors[0]).toMatchObject({ condition: 'conflict' });
    expect(second.status).toBe('online');
  });

  it('a wrong domain gets a stream error, not a hang', async () => {
    const xmpp = make('alice', { domain: 'nowhere.invalid' });
    await expect(xmpp.start()).rejects.toBeInstanceOf(StreamError);
    expect(xmpp.status).toBe('offline');
  });
});

/** A WebSocket peer that says whatever the test wants, for input no real server produces. */
async function scriptedPeer(onOpen: (ws: WebSocket) => void): Promise<{ url: string; received: string[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'xmpp' });
  await once(wss, 'listening');
  const received: string[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      received.push(text);
      if (text.startsWith('<open')) onOpen(ws);
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/xmpp-websocket`,
    received,
    close: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

const HEADER = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='s1' version='1.0'/>`;

describe('hostile peers over a real WebSocket', () => {
  it('malformed XML: bad-format stream error sent, error event, disconnect, process unharmed', async () => {
    const peer = await scriptedPeer((ws) => {
      ws.send(HEADER);
      ws.send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
      ws.send(`<message><body>unclosed</message>`);
    });
    try {
      const xmpp = make('alice', { service: peer.url, domain: 'localhost' });
      const errors: Error[] = [];
      xmpp.on('error', (e) => errors.push(e));
      const statuses: string[] = [];
      xmpp.on('status', (s) => statuses.push(s));
      const error = await xmpp.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamError);
      expect(error).toMatchObject({ condition: 'bad-format' });
      expect(errors.some((e) => e instanceof StreamError && e.condition === 'bad-format')).toBe(true);
      expect(statuses).toContain('disconnect');
      expect(xmpp.status).toBe('offline');
      expect(peer.received.some((m) => m.includes('bad-format') && m.includes('stream:error'))).toBe(true);
    } finally {
      await peer.close();
    }
  });

  it('an oversized stanza: policy-violation, nothing delivered', async () => {
    const peer = await scriptedPeer((ws) => {
      ws.send(HEADER);
      ws.send(`<message xmlns='jabber:client'><body>${'x'.repeat(2 * 1024 * 1024)}</body></message>`);
    });
    try {
      const xmpp = make('alice', { service: peer.url, domain: 'localhost' });
      const stanzas: unknown[] = [];
      xmpp.on('stanza', (s) => stanzas.push(s));
      const error = await xmpp.start().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StreamError', condition: 'policy-violation' });
      expect(stanzas).toEqual([]);
      expect(peer.received.some((m) => m.includes('policy-violation'))).toBe(true);
    } finally {
      await peer.close();
    }
  });

  it('refuses a server that does not speak the xmpp subprotocol', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
    await once(wss, 'listening');
    try {
      const { port } = wss.address() as AddressInfo;
      const xmpp = make('alice', { service: `ws://127.0.0.1:${port}/`, domain: 'localhost' });
      await expect(xmpp.start()).rejects.toMatchObject({ condition: 'bad-subprotocol' });
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  it('follows <close see-other-uri/> to the real server', async () => {
    const peer = await scriptedPeer((ws) => {
      ws.send(HEADER);
      ws.send(`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='${server.service}'/>`);
    });
    try {
      const xmpp = make('alice', { service: peer.url, domain: 'localhost' });
      const services: string[] = [];
      xmpp.on('connecting', (s) => services.push(s));
      await xmpp.start();
      expect(services).toEqual([peer.url, server.service]);
    } finally {
      await peer.close();
    }
  });
});
