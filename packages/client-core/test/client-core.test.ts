import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client, domainFromService, type ClientCoreOptions } from '@xmppkit/client-core';
import { NS_STREAM_ERRORS, type Status } from '@xmppkit/connection';
import { ConnectionError, StreamError } from '@xmppkit/error';
import { jid } from '@xmppkit/jid';
import { ScriptedServer, xml, type ServerConnection } from '@xmppkit/test';

function setup(options: Partial<ClientCoreOptions> = {}) {
  const server = new ScriptedServer();
  const entity = new Client({ service: 'memory://localhost', username: 'alice', transports: [server.factory], timeout: 2000, ...options });
  const statuses: Status[] = [];
  entity.on('status', (s) => statuses.push(s));
  const errors: Error[] = [];
  entity.on('error', (e) => errors.push(e));
  return { server, entity, statuses, errors };
}

/** Answer the client's header and wait until the client is `open`. */
async function opened(server: ScriptedServer, entity: Client): Promise<ServerConnection> {
  const peer = await server.nextConnection();
  await peer.nextHeader();
  peer.sendHeader();
  await vi.waitFor(() => expect(entity.status).toBe('open'));
  return peer;
}

const seeOtherHost = (target: string) =>
  xml('stream:error', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('see-other-host', NS_STREAM_ERRORS, target));

afterEach(() => {
  vi.useRealTimers();
});

describe('domainFromService()', () => {
  it.each([
    ['wss://chat.example.org/ws', 'chat.example.org'],
    ['ws://127.0.0.1:15280/xmpp-websocket', '127.0.0.1'],
    ['ws://[::1]:5280/xmpp-websocket', '::1'],
    ['WSS://Example.ORG/', 'example.org'],
    ['memory://localhost', 'localhost'],
    ['memory:x', ''],
    ['not a url', ''],
    ['', ''],
  ])('%s gives %j', (service, domain) => {
    expect(domainFromService(service)).toBe(domain);
  });
});

describe('Client options', () => {
  it('takes the domain from the service', () => {
    const entity = new Client({ service: 'wss://chat.example.org/ws' });
    expect(entity.options.domain).toBe('chat.example.org');
    expect(entity.username).toBeUndefined();
    expect(entity.initialService).toBe('wss://chat.example.org/ws');
    expect(entity.maxRedirects).toBe(3);
  });

  it('takes the domain and localpart from a username given as a bare JID', () => {
    const entity = new Client({ service: 'ws://127.0.0.1:15280/xmpp-websocket', username: 'alice@example.org' });
    expect(entity.options.domain).toBe('example.org');
    expect(entity.username).toBe('alice');
  });

  it('keeps an explicit domain over the one of a JID username', () => {
    const entity = new Client({ service: 'ws://127.0.0.1/x', username: 'alice@example.org', domain: 'localhost' });
    expect(entity.options.domain).toBe('localhost');
    expect(entity.username).toBe('alice');
  });

  it('throws ConnectionError bad-options when there is no domain', () => {
    for (const service of ['memory:x', 'not a url']) {
      let error: unknown;
      try {
        new Client({ service });
      } catch (err) {
        error = err;
      }
      expect(error, service).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ condition: 'bad-options' });
    }
  });
});

describe('Client.start()', () => {
  it('sends the bare JID as the header from, and resolves with the JID given to setOnline()', async () => {
    const { server, entity, statuses } = setup();
    const online = vi.fn();
    entity.on('online', online);
    const started = entity.start();
    const peer = await opened(server, entity);
    expect(peer.headers[0]).toEqual({ to: 'localhost', version: '1.0', from: 'alice@localhost' });
    const bound = jid('alice@localhost/phone');
    entity.setOnline(bound);
    await expect(started).resolves.toBe(bound);
    expect(entity.jid).toBe(bound);
    expect(online).toHaveBeenCalledExactlyOnceWith(bound);
    expect(statuses).toEqual(['connecting', 'connect', 'opening', 'open', 'online']);
    await entity.stop();
    expect(entity.status).toBe('offline');
  });

  it('uses the JID username, not the service host, in the header', async () => {
    const { server, entity } = setup({ username: 'bob@example.org' });
    const started = entity.start();
    const peer = await opened(server, entity);
    expect(peer.headers[0]).toEqual({ to: 'example.org', version: '1.0', from: 'bob@example.org' });
    entity.setOnline(jid('bob@example.org/x'));
    await started;
    await entity.stop();
  });

  it('uses the bare part of the bound JID once there is one', async () => {
    const { server, entity } = setup();
    entity.jid = jid('alice@localhost/old');
    const started = entity.start();
    const peer = await opened(server, entity);
    expect(peer.headers[0]?.from).toBe('alice@localhost');
    entity.setOnline(jid('alice@localhost/new'));
    await started;
    await entity.stop();
  });

  it('sends no from without a username', async () => {
    const { server, entity } = setup({ username: undefined });
    const started = entity.start();
    const peer = await opened(server, entity);
    expect(peer.headers[0]).toEqual({ to: 'localhost', version: '1.0' });
    entity.setOnline(jid('localhost/anon'));
    await started;
    await entity.stop();
  });

  it('rejects a second start() while the first runs, and while online', async () => {
    const { server, entity } = setup();
    const started = entity.start();
    const second = entity.start();
    await expect(second).rejects.toBeInstanceOf(ConnectionError);
    await expect(second).rejects.toMatchObject({ condition: 'invalid-state' });
    await opened(server, entity);
    entity.setOnline(jid('alice@localhost/r'));
    await started;
    await expect(entity.start()).rejects.toMatchObject({ condition: 'invalid-state' });
    expect(server.connections).toHaveLength(1);
    await entity.stop();
  });

  it('rejects start() with the error given to fail(); a second fail() changes nothing', async () => {
    const { server, entity, errors } = setup();
    const started = entity.start();
    started.catch(() => undefined);
    const peer = await opened(server, entity);
    const streamEnd = vi.fn();
    peer.on('streamEnd', streamEnd);
    const first = new Error('first failure');
    entity.fail(first);
    entity.fail(new Error('second failure'));
    await expect(started).rejects.toBe(first);
    expect(errors).toEqual([first]);
    expect(entity.lastFailure).toBe(first);
    expect(streamEnd).toHaveBeenCalledOnce();
    expect(entity.status).toBe('offline');
    expect(entity.isStarting).toBe(false);
  });

  it('can start again after a failed start', async () => {
    const { server, entity } = setup();
    const first = entity.start();
    first.catch(() => undefined);
    await opened(server, entity);
    entity.fail(new Error('nope'));
    await expect(first).rejects.toThrow('nope');
    const second = entity.start();
    await opened(server, entity);
    entity.setOnline(jid('alice@localhost/r'));
    await expect(second).resolves.toBeTruthy();
    expect(server.connections).toHaveLength(2);
    await entity.stop();
  });

  it('follows see-other-host redirects, at most maxRedirects times', async () => {
    const { server, entity } = setup({ maxRedirects: 2 });
    const services: string[] = [];
    entity.on('connecting', (s) => services.push(s));
    let n = 0;
    server.on('connection', (peer) => {
      const hop = ++n;
      void peer.nextHeader().then(() => {
        peer.sendHeader();
        peer.send(seeOtherHost(`hop${hop}.example:${5000 + hop}`));
      });
    });
    const error = await entity.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamError);
    expect(error).toMatchObject({ condition: 'see-other-host' });
    expect(services).toEqual(['memory://localhost', 'memory://hop1.example:5001', 'memory://hop2.example:5002']);
    expect(server.connections).toHaveLength(3);
    expect(entity.status).toBe('offline');
  });

  it('does not follow redirects with maxRedirects 0', async () => {
    const { server, entity } = setup({ maxRedirects: 0 });
    server.on('connection', (peer) => {
      void peer.nextHeader().then(() => {
        peer.sendHeader();
        peer.send(seeOtherHost('elsewhere.example:5000'));
      });
    });
    await expect(entity.start()).rejects.toMatchObject({ name: 'StreamError', condition: 'see-other-host' });
    expect(server.connections).toHaveLength(1);
  });

  it('goes online at the redirect target', async () => {
    const { server, entity } = setup();
    const started = entity.start();
    const first = await server.nextConnection();
    await first.nextHeader();
    first.sendHeader();
    first.send(seeOtherHost('other.example:5281'));
    await opened(server, entity);
    entity.setOnline(jid('alice@localhost/r'));
    await started;
    expect(entity.service).toBe('memory://other.example:5281');
    expect(entity.initialService).toBe('memory://localhost');
    await entity.stop();
  });
});
