import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, canTransition, seeOtherHost, transitions, NS_STREAM_ERRORS, type ConnectionOptions, type Status } from '@xmppkit/connection';
import { ConnectionError, StreamError, TimeoutError } from '@xmppkit/error';
import { ScriptedServer, xml, type ServerConnection } from '@xmppkit/test';

const SERVICE = 'memory:x';

function setup(options: ConnectionOptions = {}) {
  const server = new ScriptedServer();
  const conn = new Connection({ domain: 'localhost', transports: [server.factory], timeout: 1000, ...options });
  const statuses: Status[] = [];
  conn.on('status', (s) => statuses.push(s));
  return { server, conn, statuses };
}

/** connect() and open(); resolves with the server side of the connection. */
async function openStream(server: ScriptedServer, conn: Connection): Promise<ServerConnection> {
  const connecting = conn.connect(SERVICE);
  const peer = await server.nextConnection();
  await connecting;
  const opening = conn.open();
  await peer.nextHeader();
  peer.sendHeader();
  await opening;
  return peer;
}

/** A Connection that lets a test drive its status directly. */
class TestConnection extends Connection {
  force(status: Status): void {
    (this.setStatus as (s: Status, ...args: unknown[]) => void)(status);
  }
}

/** The path the status.ts documentation gives, in order. */
const DOCUMENTED_PATH: Status[] = ['offline', 'connecting', 'connect', 'opening', 'open', 'online', 'closing', 'close', 'disconnecting', 'disconnect', 'offline'];

afterEach(() => {
  vi.useRealTimers();
});

describe('the status table', () => {
  it('allows every step of the documented path', () => {
    for (let i = 0; i + 1 < DOCUMENTED_PATH.length; i++) {
      const from = DOCUMENTED_PATH[i] as Status;
      const to = DOCUMENTED_PATH[i + 1] as Status;
      expect(canTransition(from, to), `${from} -> ${to}`).toBe(true);
    }
  });

  it('reaches every status from offline', () => {
    const seen = new Set<Status>(['offline']);
    const queue: Status[] = ['offline'];
    while (queue.length > 0) {
      const from = queue.shift() as Status;
      for (const to of transitions[from]) {
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(transitions).sort());
    expect(seen.size).toBe(10);
  });

  it('lets a stream restart (open -> opening) and a dead link (any live state -> disconnect) through', () => {
    expect(canTransition('open', 'opening')).toBe(true);
    for (const live of ['connecting', 'connect', 'opening', 'open', 'online', 'closing', 'close', 'disconnecting'] as const) {
      expect(canTransition(live, 'disconnect'), live).toBe(true);
    }
  });

  it('refuses transitions that are not in the table', () => {
    expect(canTransition('offline', 'online')).toBe(false);
    expect(canTransition('offline', 'disconnect')).toBe(false);
    expect(canTransition('online', 'opening')).toBe(false);
    expect(canTransition('disconnecting', 'offline')).toBe(false);
    expect(canTransition('close', 'open')).toBe(false);
  });

  it('setStatus throws on an invalid transition and leaves the status unchanged', () => {
    const conn = new TestConnection();
    const statuses: Status[] = [];
    conn.on('status', (s) => statuses.push(s));
    expect(() => conn.force('online')).toThrow(/invalid status transition offline -> online/);
    expect(conn.status).toBe('offline');
    expect(statuses).toEqual([]);
    conn.force('connecting');
    expect(conn.status).toBe('connecting');
    expect(() => conn.force('open')).toThrow(/connecting -> open/);
    expect(conn.status).toBe('connecting');
  });
});

describe('Connection lifecycle', () => {
  it('goes connect -> open -> close -> disconnect -> offline, emitting status before the named event with its arguments', async () => {
    const { server, conn } = setup();
    const log: unknown[][] = [];
    conn.on('status', (s) => log.push(['status', s]));
    for (const name of ['offline', 'connecting', 'connect', 'opening', 'open', 'closing', 'close', 'disconnecting', 'disconnect'] as const) {
      conn.on(name, (...args: unknown[]) => log.push([name, ...args]));
    }

    const peer = await openStream(server, conn);
    expect(conn.status).toBe('open');
    expect(conn.root?.attrs.version).toBe('1.0');
    expect(peer.headers[0]).toEqual({ to: 'localhost', version: '1.0' });

    await expect(conn.close()).resolves.toEqual({ clean: true });
    expect(conn.status).toBe('close');
    await conn.disconnect();
    expect(conn.status).toBe('disconnect');
    await conn.stop();
    expect(conn.status).toBe('offline');
    expect(conn.transport).toBeNull();

    const header = log.find((entry) => entry[0] === 'open')?.[1];
    expect(header).toBe(conn.root);
    expect(log).toEqual([
      ['status', 'connecting'],
      ['connecting', SERVICE],
      ['status', 'connect'],
      ['connect'],
      ['status', 'opening'],
      ['opening'],
      ['status', 'open'],
      ['open', header],
      ['status', 'closing'],
      ['closing'],
      ['status', 'close'],
      ['close', { clean: true }],
      ['status', 'disconnecting'],
      ['disconnecting'],
      ['status', 'disconnect'],
      ['disconnect', { clean: true }],
      ['status', 'offline'],
      ['offline'],
    ]);
  });

  it('stop() from open closes the stream and ends with disconnect {clean: true} and offline', async () => {
    const { server, conn, statuses } = setup();
    const peer = await openStream(server, conn);
    const disconnect = vi.fn();
    const close = vi.fn();
    conn.on('disconnect', disconnect);
    conn.on('close', close);
    const streamEnd = vi.fn();
    peer.on('streamEnd', streamEnd);
    await conn.stop();
    expect(streamEnd).toHaveBeenCalledOnce();
    expect(close).toHaveBeenCalledWith({ clean: true });
    expect(disconnect).toHaveBeenCalledExactlyOnceWith({ clean: true });
    expect(statuses.slice(-5)).toEqual(['closing', 'close', 'disconnecting', 'disconnect', 'offline']);
    // stop() again is a no-op
    await conn.stop();
    expect(conn.status).toBe('offline');
  });

  it('close() resolves {clean: false} when the server does not answer our close within timeout', async () => {
    vi.useFakeTimers();
    const { server, conn } = setup();
    const peer = await openStream(server, conn);
    peer.answerClose = false;
    const close = vi.fn();
    conn.on('close', close);
    let info: unknown;
    const closing = conn.close().then((i) => (info = i));
    await vi.advanceTimersByTimeAsync(999);
    expect(info).toBeUndefined();
    expect(conn.status).toBe('closing');
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(info).toEqual({ clean: false });
    expect(close).toHaveBeenCalledExactlyOnceWith({ clean: false });
    expect(conn.status).toBe('close');
  });

  it('emits disconnect {clean: false, reason} when the server cuts the link', async () => {
    const { server, conn } = setup();
    const peer = await openStream(server, conn);
    const disconnected = new Promise<unknown>((resolve) => conn.once('disconnect', resolve));
    peer.cut();
    const info = (await disconnected) as { clean: boolean; reason?: Error };
    expect(info.clean).toBe(false);
    expect(info.reason).toBeInstanceOf(Error);
    expect(info.reason?.message).toBe('connection reset');
    expect(conn.status).toBe('disconnect');
    expect(conn.transport).toBeNull();
    expect(conn.signal.aborted).toBe(true);
  });

  it('rejects connect() with TimeoutError when the server never answers, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { server, conn, statuses } = setup();
    server.hang = true;
    const connecting = conn.connect(SERVICE);
    connecting.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(999);
    expect(conn.status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    await expect(connecting).rejects.toBeInstanceOf(TimeoutError);
    expect(conn.status).toBe('disconnect');
    expect(statuses).toEqual(['connecting', 'disconnect']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects connect() with no-transport for a service no transport accepts', async () => {
    const { conn } = setup();
    await expect(conn.connect('ws://example.org/')).rejects.toMatchObject({ name: 'ConnectionError', condition: 'no-transport' });
    expect(conn.status).toBe('offline');
  });

  it('leaves no timer after the server cuts the link', async () => {
    vi.useFakeTimers();
    const { server, conn } = setup();
    const peer = await openStream(server, conn);
    peer.cut();
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.status).toBe('disconnect');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects send() with ConnectionError not-connected when disconnected', async () => {
    const { conn } = setup();
    const sent = vi.fn();
    conn.on('send', sent);
    const error = await conn.send(xml('message', { to: 'a@localhost' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ condition: 'not-connected' });
    await expect(conn.sendMany([xml('presence')])).rejects.toMatchObject({ condition: 'not-connected' });
    expect(sent).not.toHaveBeenCalled();
  });

  it('sendMany() writes the elements in order and emits send for each', async () => {
    const { server, conn } = setup();
    const peer = await openStream(server, conn);
    const sent: string[] = [];
    conn.on('send', (el) => sent.push(el.attrs.id as string));
    await conn.sendMany([xml('message', { id: '1' }), xml('presence', { id: '2' }), xml('iq', { id: '3', type: 'get' }, xml('ping', 'urn:xmpp:ping'))]);
    await peer.next((el) => el.attrs.id === '3');
    expect(peer.received.map((el) => `${el.name}:${el.attrs.id}`)).toEqual(['message:1', 'presence:2', 'iq:3']);
    expect(sent).toEqual(['1', '2', '3']);
    await conn.stop();
  });

  it('answers a server-initiated <close/> by closing its side, then disconnects', async () => {
    const { server, conn, statuses } = setup();
    const peer = await openStream(server, conn);
    peer.answerClose = false;
    const streamEnd = vi.fn();
    peer.on('streamEnd', streamEnd);
    const close = vi.fn();
    conn.on('close', close);
    const disconnected = new Promise<unknown>((resolve) => conn.once('disconnect', resolve));
    peer.closeStream();
    await expect(disconnected).resolves.toEqual({ clean: true });
    expect(streamEnd).toHaveBeenCalledOnce();
    expect(close).toHaveBeenCalledWith({ clean: true });
    expect(statuses.slice(-4)).toEqual(['open', 'close', 'disconnecting', 'disconnect']);
    expect(conn.transport).toBeNull();
  });

  it('reports a stream error from the server as a StreamError and disconnects', async () => {
    const { server, conn } = setup();
    const peer = await openStream(server, conn);
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    const nonzas: string[] = [];
    conn.on('nonza', (el) => nonzas.push(el.name));
    const disconnected = new Promise<unknown>((resolve) => conn.once('disconnect', resolve));
    peer.sendStreamError('system-shutdown', 'bye');
    await disconnected;
    expect(conn.status).toBe('disconnect');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect(errors[0]).toMatchObject({ condition: 'system-shutdown', text: 'bye' });
    expect(conn.lastStreamError).toBe(errors[0]);
    expect(nonzas).toEqual(['stream:error']);
  });

  it('records a see-other-host stream error target as redirect', async () => {
    const server = new ScriptedServer();
    const conn = new Connection({ domain: 'localhost', transports: [server.factory] });
    const connecting = conn.connect('memory://a:1/x');
    const peer = await server.nextConnection();
    await connecting;
    const opening = conn.open();
    await peer.nextHeader();
    peer.sendHeader();
    await opening;
    conn.on('error', () => undefined);
    const disconnected = new Promise<unknown>((resolve) => conn.once('disconnect', resolve));
    peer.send(xml('stream:error', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('see-other-host', NS_STREAM_ERRORS, 'b:2')));
    await disconnected;
    expect(conn.redirect).toBe('memory://b:2/x');
  });

  it('emitError() with no listener does not throw, and reaches a listener when there is one', () => {
    const conn = new Connection();
    expect(conn.listenerCount('error')).toBe(0);
    expect(() => conn.emitError(new Error('nobody listens'))).not.toThrow();
    const listener = vi.fn();
    conn.on('error', listener);
    const err = new Error('heard');
    conn.emitError(err);
    expect(listener).toHaveBeenCalledExactlyOnceWith(err);
  });

  it('rejects a server header with a version other than 1.0 with unsupported-version', async () => {
    const { server, conn } = setup();
    const connecting = conn.connect(SERVICE);
    const peer = await server.nextConnection();
    await connecting;
    const opening = conn.open();
    opening.catch(() => undefined);
    await peer.nextHeader();
    peer.sendHeader({ version: '0.9' });
    await expect(opening).rejects.toBeInstanceOf(StreamError);
    await expect(opening).rejects.toMatchObject({ condition: 'unsupported-version' });
    const sent = peer.received.find((el) => el.name === 'stream:error');
    expect(sent?.getChild('unsupported-version', NS_STREAM_ERRORS)).toBeDefined();
    expect(conn.status).toBe('disconnect');
    expect(conn.root).toBeNull();
  });

  it('rejects open() when the header has no version at all', async () => {
    const { server, conn } = setup();
    const connecting = conn.connect(SERVICE);
    const peer = await server.nextConnection();
    await connecting;
    const opening = conn.open();
    opening.catch(() => undefined);
    await peer.nextHeader();
    peer.sendRaw("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='x'/>");
    await expect(opening).rejects.toMatchObject({ name: 'StreamError', condition: 'unsupported-version' });
  });

  it('reports a status listener that throws on open as an error event, and the stream stays open', async () => {
    const { server, conn } = setup();
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    conn.on('status', (s) => {
      if (s === 'open') throw new Error('listener bug');
    });
    const peer = await openStream(server, conn);
    expect(conn.status).toBe('open');
    expect(errors.map((e) => e.message)).toEqual(['listener bug']);
    expect(conn.lastStreamError).toBeNull();
    peer.send(xml('message', { xmlns: 'jabber:client' }));
    await vi.waitFor(() => expect(conn.status).toBe('open'));
  });

  it('sends xml:lang in the header when lang is set', async () => {
    const { server, conn } = setup({ lang: 'fr' });
    const peer = await openStream(server, conn);
    expect(peer.headers[0]).toEqual({ to: 'localhost', version: '1.0', 'xml:lang': 'fr' });
    await conn.stop();
  });
});

describe('seeOtherHost()', () => {
  it('replaces host and port of the service', () => {
    expect(seeOtherHost('ws://a:1/x', 'b:2')).toBe('ws://b:2/x');
    expect(seeOtherHost('wss://a.example/xmpp-websocket?q=1', 'b.example:5443')).toBe('wss://b.example:5443/xmpp-websocket?q=1');
  });

  it('accepts a bracketed IPv6 target', () => {
    expect(seeOtherHost('ws://a:1/x', '[::1]:5')).toBe('ws://[::1]:5/x');
  });

  it('returns null on bad input', () => {
    expect(seeOtherHost('not a url', 'b:2')).toBeNull();
    expect(seeOtherHost('ws://a:1/x', 'b:notaport')).toBeNull();
    expect(seeOtherHost('ws://a:1/x', 'has space')).toBeNull();
  });
});

describe('timers after stop()', () => {
  it('leaves no timer behind once stopped', async () => {
    vi.useFakeTimers();
    try {
      const server = new ScriptedServer();
      const conn = new Connection({ domain: 'localhost', timeout: 1000, transports: [server.factory] });
      const connecting = conn.connect('memory:');
      const peer = await server.nextConnection();
      await connecting;
      const opening = conn.open();
      await peer.nextHeader();
      peer.sendHeader();
      await opening;
      await conn.stop();
      expect(conn.status).toBe('offline');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
