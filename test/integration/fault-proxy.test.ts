import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../support/fault-proxy.js';

/** An echo server on loopback, to see what the proxy does to bytes. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const echo = await echoServer();
  cleanups.push(echo.close);
  const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
  await proxy.start();
  cleanups.push(() => proxy.close());
  const socket = net.connect(proxy.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  cleanups.push(async () => void socket.destroy());
  return { proxy, socket };
}

const read = (socket: net.Socket) => once(socket, 'data').then(([d]) => String(d));

describe('fault proxy', () => {
  it('forwards both ways', async () => {
    const { socket } = await setup();
    socket.write('hello');
    expect(await read(socket)).toBe('hello');
  });

  it('cut() resets the connection', async () => {
    const { proxy, socket } = await setup();
    socket.write('x');
    await read(socket);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const errored = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(proxy.cut()).toBe(1);
    expect((await errored).code).toBe('ECONNRESET');
    await closed;
    expect(proxy.connections).toBe(0);
  });

  it('blackhole() drops bytes but keeps the socket open', async () => {
    const { proxy, socket } = await setup();
    proxy.blackhole();
    socket.write('lost');
    const got = await Promise.race([read(socket), new Promise((r) => setTimeout(() => r('nothing'), 200))]);
    expect(got).toBe('nothing');
    expect(socket.destroyed).toBe(false);
    expect(proxy.dropped).toBe(4);
    proxy.blackhole(false);
    socket.write('back');
    expect(await read(socket)).toBe('back');
  });

  it('refuse() resets new connections', async () => {
    const { proxy } = await setup();
    proxy.refuse();
    const s = net.connect(proxy.port, '127.0.0.1');
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      s.once('error', resolve);
      s.once('close', () => resolve(null));
    });
    expect(err === null || err.code === 'ECONNRESET').toBe(true);
    expect(proxy.accepted).toBe(1);
  });
});
