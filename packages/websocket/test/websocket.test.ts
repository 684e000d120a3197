import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { Connection, type Transport } from '@xmppkit/connection';
import { ConnectionError } from '@xmppkit/error';
import { websocket, websocketFactory, NS_FRAMING, WebSocketTransport, type WebSocketLike } from '@xmppkit/websocket';
import { XMLError, xml, type Element } from '@xmppkit/xml';

const OPEN_FRAME = `<open xmlns='${NS_FRAMING}' from='localhost' id='s1' version='1.0'/>`;

/** A loopback WebSocket server; each test gets a fresh one. */
class LoopbackServer {
  readonly wss: WebSocketServer;
  readonly sockets: ServerSocket[] = [];
  /** text frames received, per socket in arrival order */
  readonly frames: string[] = [];
  private waiting: Array<(s: ServerSocket) => void> = [];
  private frameWaiters: Array<{ test: (f: string) => boolean; resolve: (f: string) => void }> = [];

  constructor(protocol: string | false = 'xmpp') {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => protocol });
    this.wss.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const text = data.toString();
        this.frames.push(text);
        this.frameWaiters = this.frameWaiters.filter((w) => {
          if (!w.test(text)) return true;
          w.resolve(text);
          return false;
        });
      });
      this.waiting.shift()?.(socket);
    });
  }

  async listening(): Promise<void> {
    if (this.wss.address()) return;
    await new Promise<void>((resolve) => this.wss.once('listening', () => resolve()));
  }

  get url(): string {
    const address = this.wss.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return `ws://127.0.0.1:${address.port}/xmpp-websocket`;
  }

  nextSocket(): Promise<ServerSocket> {
    const existing = this.sockets[this.sockets.length - 1];
    if (existing && this.waiting.length === 0 && this.sockets.length > this.taken) {
      this.taken++;
      return Promise.resolve(existing);
    }
    return new Promise((resolve) =>
      this.waiting.push((s) => {
        this.taken++;
        resolve(s);
      }),
    );
  }
  private taken = 0;

  /** Resolve with the first frame (already received or future) that passes `test`. */
  frame(test: (f: string) => boolean): Promise<string> {
    const found = this.frames.find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.frameWaiters.push({ test, resolve }));
  }

  close(): Promise<void> {
    for (const s of this.wss.clients) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Collects a transport's events. */
function record(transport: Transport) {
  const events: Array<[string, ...unknown[]]> = [];
  for (const name of ['header', 'element', 'streamEnd', 'close', 'error', 'input', 'redirect'] as const) {
    transport.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  const waitFor = (name: string): Promise<unknown[]> =>
    new Promise((resolve) => {
      const found = events.find((e) => e[0] === name);
      if (found) return resolve(found.slice(1));
      transport.once(name as 'close', (...args: unknown[]) => resolve(args));
    });
  return { events, waitFor };
}

let server: LoopbackServer;

async function connected(maxStanzaSize = 1024 * 1024) {
  await server.listening();
  const transport = websocket().create({ service: server.url, maxStanzaSize });
  const rec = record(transport);
  const socket = server.nextSocket();
  await transport.connect(new AbortController().signal);
  return { transport, socket: await socket, ...rec };
}

describe('websocket() factory', () => {
  it('accepts ws: and wss: services only', () => {
    const factory = websocket();
    expect(factory.name).toBe('websocket');
    expect(factory.accepts('ws://example.org/xmpp-websocket')).toBe(true);
    expect(factory.accepts('wss://example.org/xmpp-websocket')).toBe(true);
    expect(factory.accepts('WSS://example.org/')).toBe(true);
    expect(factory.accepts('http://example.org/')).toBe(false);
    expect(factory.accepts('https://example.org/')).toBe(false);
    expect(factory.accepts('memory:x')).toBe(false);
    expect(factory.accepts('xmpp:example.org')).toBe(false);
    expect(factory.accepts('ws:/missing-slash')).toBe(false);
  });

  it('sets secure for wss: and loopback for loopback hosts', () => {
    const factory = websocket();
    const make = (service: string) => factory.create({ service, maxStanzaSize: 1000 });
    expect(make('wss://example.org/x')).toMatchObject({ secure: true, loopback: false });
    expect(make('ws://example.org/x')).toMatchObject({ secure: false, loopback: false });
    expect(make('ws://127.0.0.1:5280/x')).toMatchObject({ secure: false, loopback: true });
    expect(make('ws://127.8.9.10/x')).toMatchObject({ loopback: true });
    expect(make('ws://[::1]:5280/x')).toMatchObject({ loopback: true });
    expect(make('wss://localhost/x')).toMatchObject({ secure: true, loopback: true });
    expect(make('ws://chat.localhost/x')).toMatchObject({ loopback: true });
    expect(make('ws://127.0.0.1.example.org/x')).toMatchObject({ loopback: false });
    expect(make('ws://localhost.example.org/x')).toMatchObject({ loopback: false });
  });

  it('creates WebSocketTransport instances', () => {
    expect(websocket().create({ service: 'ws://127.0.0.1/x', maxStanzaSize: 1000 })).toBeInstanceOf(WebSocketTransport);
  });
});

describe('WebSocketTransport against a loopback ws server', () => {
  beforeEach(() => {
    server = new LoopbackServer();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await server.close();
  });

  it('asks for the xmpp subprotocol and connects', async () => {
    const { transport, socket } = await connected();
    expect(socket.protocol).toBe('xmpp');
    transport.destroy();
  });

  it('maps <open/> to header, stanzas to element and <close/> to streamEnd, tolerating whitespace-only frames', async () => {
    const { transport, socket, events, waitFor } = await connected();
    socket.send(OPEN_FRAME);
    socket.send('  \r\n ');
    socket.send("<message xmlns='jabber:client' id='m1'><body>hi</body></message>");
    socket.send('\n');
    socket.send(`<close xmlns='${NS_FRAMING}'/>`);
    await waitFor('streamEnd');
    const names = events.filter((e) => e[0] !== 'input').map((e) => e[0]);
    expect(names).toEqual(['header', 'element', 'streamEnd']);
    const header = events.find((e) => e[0] === 'header')?.[1] as Element;
    expect(header.attrs).toMatchObject({ from: 'localhost', id: 's1', version: '1.0' });
    const message = events.find((e) => e[0] === 'element')?.[1] as Element;
    expect(message.name).toBe('message');
    expect(message.getChildText('body')).toBe('hi');
    expect(events.some((e) => e[0] === 'error')).toBe(false);
    transport.destroy();
  });

  it('emits redirect then streamEnd for <close see-other-uri/>', async () => {
    const { transport, socket, events, waitFor } = await connected();
    socket.send(`<close xmlns='${NS_FRAMING}' see-other-uri='wss://other.example/xmpp-websocket'/>`);
    await waitFor('streamEnd');
    expect(events.filter((e) => e[0] === 'redirect' || e[0] === 'streamEnd')).toEqual([['redirect', 'wss://other.example/xmpp-websocket'], ['streamEnd']]);
    transport.destroy();
  });

  it('sends our header as <open/> and our stream end as <close/>', async () => {
    const { transport } = await connected();
    await transport.openStream({ to: 'localhost', version: '1.0', from: 'alice@localhost' });
    const open = await server.frame((f) => f.startsWith('<open'));
    expect(open).toContain(`xmlns="${NS_FRAMING}"`);
    expect(open).toContain('to="localhost"');
    expect(open).toContain('from="alice@localhost"');
    await transport.closeStream();
    expect(await server.frame((f) => f.startsWith('<close'))).toBe(`<close xmlns="${NS_FRAMING}"/>`);
    transport.destroy();
  });

  it('puts jabber:client on stanzas sent without xmlns, and leaves other elements alone', async () => {
    const { transport } = await connected();
    await transport.send(xml('message', { to: 'bob@localhost', id: 'a' }, xml('body', {}, 'hi')));
    await transport.sendMany([xml('presence', { id: 'b' }), xml('iq', { type: 'get', id: 'c', xmlns: 'jabber:server' }), xml('r', 'urn:xmpp:sm:3')]);
    await server.frame((f) => f.startsWith('<r'));
    expect(server.frames).toEqual([
      '<message to="bob@localhost" id="a" xmlns="jabber:client"><body>hi</body></message>',
      '<presence id="b" xmlns="jabber:client"/>',
      '<iq type="get" id="c" xmlns="jabber:server"/>',
      '<r xmlns="urn:xmpp:sm:3"/>',
    ]);
    transport.destroy();
  });

  it('refuses a frame over maxStanzaSize with a policy-violation XMLError, without parsing it', async () => {
    const { transport, socket, events, waitFor } = await connected(200);
    socket.send(`<message xmlns='jabber:client'><body>${'x'.repeat(300)}</body></message>`);
    const [error] = (await waitFor('error')) as [XMLError];
    expect(error).toBeInstanceOf(XMLError);
    expect(error.condition).toBe('policy-violation');
    expect(events.filter((e) => e[0] === 'input' || e[0] === 'element')).toEqual([]);
    transport.destroy();
  });

  it.each([
    ["<message xmlns='jabber:client'><body>unclosed</message>", 'bad-format'],
    ["<!DOCTYPE x [<!ENTITY a 'b'>]><message xmlns='jabber:client'/>", 'restricted-xml'],
    ["<message xmlns='jabber:client'><body>&xxe;</body></message>", 'restricted-xml'],
    // one element per frame (RFC 7395 section 3.3.3)
    ["<message xmlns='jabber:client'/><presence xmlns='jabber:client'/>", 'bad-format'],
    [`<message xmlns='jabber:client'><body>${'<b>'.repeat(70)}${'</b>'.repeat(70)}</body></message>`, 'policy-violation'],
  ])('emits an XMLError for the frame %j (%s), then ignores frames until the next openStream()', async (frame, condition) => {
    const { transport, socket, events, waitFor } = await connected();
    socket.send(frame);
    const [error] = (await waitFor('error')) as [XMLError];
    expect(error).toBeInstanceOf(XMLError);
    expect(error.condition).toBe(condition);
    socket.send("<message xmlns='jabber:client' id='ignored'/>");
    await vi.waitFor(() => expect(events.filter((e) => e[0] === 'input')).toHaveLength(2));
    await transport.openStream({ to: 'localhost', version: '1.0' });
    socket.send("<message xmlns='jabber:client' id='after'/>");
    const [element] = (await waitFor('element')) as [Element];
    expect(element.attrs.id).toBe('after');
    expect(events.filter((e) => e[0] === 'error' || e[0] === 'element').map((e) => e[0])).toEqual(['error', 'element']);
    transport.destroy();
  });

  it('a refused frame makes the connection send the matching stream error', async () => {
    await server.listening();
    server.wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        if (data.toString().startsWith('<open')) {
          socket.send(OPEN_FRAME);
          socket.send("<message xmlns='jabber:client'><!-- no --></message>");
        }
      });
    });
    const conn = new Connection({ domain: 'localhost', transports: [websocket()], timeout: 2000 });
    const errors: unknown[] = [];
    conn.on('error', (err) => errors.push(err));
    await conn.connect(server.url);
    await conn.open();
    const streamError = await server.frame((f) => f.includes('stream:error'));
    expect(streamError).toContain('<restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    expect(errors).toEqual([expect.objectContaining({ name: 'StreamError', condition: 'restricted-xml' })]);
    await conn.disconnect();
  });

  it('rejects connect with bad-subprotocol when the server does not answer with xmpp', async () => {
    await server.close();
    server = new LoopbackServer(false);
    await server.listening();
    const transport = websocket().create({ service: server.url, maxStanzaSize: 1000 });
    const error = await transport.connect(new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ condition: 'bad-subprotocol' });
  });

  it('rejects connect with connection-failed when nothing listens', async () => {
    await server.listening();
    const url = server.url;
    await server.close();
    server = new LoopbackServer();
    const transport = websocket().create({ service: url, maxStanzaSize: 1000 });
    await expect(transport.connect(new AbortController().signal)).rejects.toMatchObject({ name: 'ConnectionError', condition: 'connection-failed' });
  });

  it('aborting a connect that the server never answers leaves no error behind (no uncaught exception)', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined); // accepts TCP, never answers the HTTP upgrade
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const transport = websocket().create({ service: `ws://127.0.0.1:${port}/`, maxStanzaSize: 1000 });
      const abort = new AbortController();
      const connecting = transport.connect(abort.signal);
      setTimeout(() => abort.abort(new ConnectionError('aborted', { text: 'test timeout' })), 50);
      await expect(connecting).rejects.toMatchObject({ name: 'ConnectionError', condition: 'aborted' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const c of [silent]) c.close();
    }
  });

  it('destroy() emits close(false) at once, without waiting for the peer', async () => {
    const { transport, waitFor } = await connected();
    const close = vi.fn();
    transport.on('close', close);
    transport.destroy();
    // one microtask turn, no I/O and no timers
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(close).toHaveBeenCalledOnce();
    expect(close.mock.calls[0]?.[0]).toBe(false);
    expect(close.mock.calls[0]?.[1]).toBeInstanceOf(Error);
    await waitFor('close');
    // destroying again does nothing
    transport.destroy();
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(close).toHaveBeenCalledOnce();
  });

  it('end() closes the socket and emits close(true)', async () => {
    const { transport, waitFor } = await connected();
    transport.end();
    const [clean, reason] = await waitFor('close');
    expect(clean).toBe(true);
    expect(reason).toBeUndefined();
    await expect(transport.write('<presence/>')).rejects.toMatchObject({ condition: 'not-connected' });
  });

  it('emits close(false, connection-lost) when the server drops the socket', async () => {
    const { socket, waitFor } = await connected();
    socket.terminate();
    const [clean, reason] = await waitFor('close');
    expect(clean).toBe(false);
    expect(reason).toMatchObject({ name: 'ConnectionError', condition: 'connection-lost' });
  });

  it('carries a whole Connection from connect to a clean disconnect', async () => {
    await server.listening();
    server.wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('<open')) socket.send(OPEN_FRAME);
        else if (text.startsWith('<close')) socket.send(`<close xmlns='${NS_FRAMING}'/>`);
      });
    });
    const conn = new Connection({ domain: 'localhost', transports: [websocket()], timeout: 2000 });
    const statuses: string[] = [];
    conn.on('status', (s) => statuses.push(s));
    const disconnect = vi.fn();
    conn.on('disconnect', disconnect);
    await conn.connect(server.url);
    expect(conn.transport?.loopback).toBe(true);
    const header = await conn.open();
    expect(header.attrs.id).toBe('s1');
    await expect(conn.close()).resolves.toEqual({ clean: true });
    await conn.disconnect();
    expect(disconnect).toHaveBeenCalledWith({ clean: true });
    expect(statuses).toEqual(['connecting', 'connect', 'opening', 'open', 'closing', 'close', 'disconnecting', 'disconnect']);
  });
});

/** A scripted WebSocketLike: opens on the next microtask, records sends, and lets the test set bufferedAmount. */
class FakeWebSocket implements WebSocketLike {
  static last: FakeWebSocket | null = null;
  protocol = 'xmpp';
  readyState = 0;
  bufferedAmount = 0;
  binaryType = 'blob';
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: { message?: string; error?: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  readonly sent: string[] = [];
  readonly protocols: string[];

  constructor(
    readonly url: string,
    protocols: string[],
  ) {
    this.protocols = protocols;
    FakeWebSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1005, reason = ''): void {
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason, wasClean: true }));
  }
}

describe('WebSocketTransport with a fake WebSocket', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  async function fakeConnected(highWaterMark: number) {
    const factory = websocketFactory(FakeWebSocket, { highWaterMark });
    const transport = factory.create({ service: 'wss://example.org/xmpp-websocket', maxStanzaSize: 1000 });
    await transport.connect(new AbortController().signal);
    const socket = FakeWebSocket.last as FakeWebSocket;
    return { transport, socket };
  }

  it('opens the socket with the xmpp subprotocol and arraybuffer binaryType', async () => {
    const { transport, socket } = await fakeConnected(1000);
    expect(socket.protocols).toEqual(['xmpp']);
    expect(socket.url).toBe('wss://example.org/xmpp-websocket');
    expect(socket.binaryType).toBe('arraybuffer');
    expect(transport.secure).toBe(true);
  });

  it('holds write() while bufferedAmount stays above highWaterMark, and resolves once it drops', async () => {
    vi.useFakeTimers();
    const { transport, socket } = await fakeConnected(1000);
    socket.bufferedAmount = 5000;
    let written = false;
    const writing = transport.write('<presence/>').then(() => (written = true));
    await vi.advanceTimersByTimeAsync(0);
    // the data went to the socket; the promise waits for the buffer
    expect(socket.sent).toEqual(['<presence/>']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(written).toBe(false);
    // below the high-water mark but above half of it: still held
    socket.bufferedAmount = 600;
    await vi.advanceTimersByTimeAsync(100);
    expect(written).toBe(false);
    socket.bufferedAmount = 400;
    await vi.advanceTimersByTimeAsync(100);
    await writing;
    expect(written).toBe(true);
  });

  it('resolves write() at once while the buffer is below highWaterMark', async () => {
    vi.useFakeTimers();
    const { transport, socket } = await fakeConnected(1000);
    socket.bufferedAmount = 999;
    let written = false;
    void transport.write('<presence/>').then(() => (written = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toBe(true);
  });

  it('stops waiting for the buffer when the socket closes', async () => {
    vi.useFakeTimers();
    const { transport, socket } = await fakeConnected(1000);
    socket.bufferedAmount = 5000;
    let settled = false;
    const done = () => (settled = true);
    void transport.write('<presence/>').then(done, done);
    await vi.advanceTimersByTimeAsync(50);
    expect(settled).toBe(false);
    socket.readyState = 3;
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects connect with bad-subprotocol when the socket opens without xmpp', async () => {
    class NoProtocol extends FakeWebSocket {
      override protocol = '';
    }
    const transport = websocketFactory(NoProtocol).create({ service: 'ws://127.0.0.1/x', maxStanzaSize: 1000 });
    await expect(transport.connect(new AbortController().signal)).rejects.toMatchObject({ name: 'ConnectionError', condition: 'bad-subprotocol' });
    expect(FakeWebSocket.last?.readyState).toBe(3);
  });

  it('destroy() reports close(false) even when the socket never answers', async () => {
    const { transport, socket } = await fakeConnected(1000);
    socket.close = () => undefined; // a socket that never fires onclose
    const close = vi.fn();
    transport.on('close', close);
    transport.destroy(new Error('gone'));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(close).toHaveBeenCalledExactlyOnceWith(false, expect.objectContaining({ message: 'gone' }));
  });
});
