import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, SASLError, type ReconnectOptions, type Status } from '@xmppkit/client';
import { backoff } from '@xmppkit/reconnect';
import { ScriptedServer, type ServerConnection } from '@xmppkit/test';

const defaults = { initialDelay: 1000, factor: 2, maxDelay: 30_000 };

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('backoff()', () => {
  it('bounds the delay by initialDelay * factor^(attempt-1) (full jitter)', () => {
    // random just under 1 gives just under the bound
    expect(backoff(1, defaults, () => 0.999)).toBe(999);
    expect(backoff(2, defaults, () => 0.999)).toBe(1998);
    expect(backoff(3, defaults, () => 0.999)).toBe(3996);
    expect(backoff(4, defaults, () => 0.999)).toBe(7992);
    expect(backoff(3, { initialDelay: 100, factor: 3, maxDelay: 30_000 }, () => 0.999)).toBe(899);
  });

  it('returns 0 when random gives 0, whatever the attempt', () => {
    for (const attempt of [1, 2, 5, 20]) expect(backoff(attempt, defaults, () => 0)).toBe(0);
  });

  it('scales linearly with random within the bound', () => {
    expect(backoff(1, defaults, () => 0.5)).toBe(500);
    expect(backoff(3, defaults, () => 0.25)).toBe(1000);
  });

  it('caps the bound at maxDelay', () => {
    // 1000 * 2^5 = 32 000 > 30 000
    expect(backoff(6, defaults, () => 0.999)).toBe(29_970);
    expect(backoff(50, defaults, () => 0.999)).toBe(29_970);
    expect(backoff(50, defaults, () => 0.5)).toBe(15_000);
    expect(backoff(3, { initialDelay: 1000, factor: 2, maxDelay: 2500 }, () => 0.999)).toBe(2497);
  });

  it('never returns a delay at or above the bound', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const bound = Math.min(defaults.maxDelay, defaults.initialDelay * defaults.factor ** (attempt - 1));
      const delay = backoff(attempt, defaults, () => 0.999999);
      expect(delay).toBeLessThan(bound);
      expect(delay).toBeGreaterThanOrEqual(bound - 1);
    }
  });

  it('treats an attempt below 1 like the first one', () => {
    expect(backoff(0, defaults, () => 0.999)).toBe(999);
  });
});

type Extra = { reconnect?: ReconnectOptions | false; timeout?: number };

/** A client on the scripted server, with stream management off and every reconnect event recorded. */
function setup(extra: Extra = {}) {
  vi.useFakeTimers();
  const server = new ScriptedServer();
  const xmpp = client({
    service: 'memory://localhost',
    username: 'user',
    password: 'pencil',
    transports: [server.factory],
    timeout: extra.timeout ?? 2000,
    streamManagement: { enabled: false },
    reconnect: extra.reconnect === undefined ? { initialDelay: 1000, random: () => 0.5 } : extra.reconnect,
  });
  const events: Array<[string, ...unknown[]]> = [];
  xmpp.reconnect.on('reconnecting', (attempt, delay) => events.push(['reconnecting', attempt, delay]));
  xmpp.reconnect.on('reconnected', () => events.push(['reconnected']));
  const failures: Error[] = [];
  xmpp.reconnect.on('failed', (err) => {
    failures.push(err);
    events.push(['failed', err]);
  });
  const onlines: string[] = [];
  xmpp.on('online', (jid) => onlines.push(jid.toString()));
  const statuses: Status[] = [];
  xmpp.on('status', (s) => statuses.push(s));
  xmpp.on('error', () => undefined);
  return { server, xmpp, events, failures, onlines, statuses };
}

type Setup = ReturnType<typeof setup>;

/** Start the client and play the login; resolves with the server side once the client is online. */
async function goOnline(ctx: Setup, jid = 'user@localhost/first'): Promise<ServerConnection> {
  const started = ctx.xmpp.start();
  const peer = await ctx.server.nextConnection();
  await peer.login({ jid });
  await started;
  expect(ctx.xmpp.status).toBe('online');
  return peer;
}

/** Cut the link and let the client notice. */
async function cut(peer: ServerConnection): Promise<void> {
  peer.cut();
  await vi.advanceTimersByTimeAsync(0);
}

/** Let queued work run without moving the fake clock, until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await vi.advanceTimersByTimeAsync(0);
  expect(condition()).toBe(true);
}

const reconnecting = (events: Setup['events']) => events.filter((e) => e[0] === 'reconnecting').map((e) => [e[1], e[2]]);

describe('Reconnect driving a client', () => {
  it('after a cut while online: reconnecting(1, jittered delay), a new connection after that delay, a new session', async () => {
    const ctx = setup();
    const { server, xmpp, events, onlines } = ctx;
    const peer = await goOnline(ctx, 'user@localhost/first');
    expect(onlines).toEqual(['user@localhost/first']);
    expect(events).toEqual([]);

    await cut(peer);
    expect(xmpp.status).toBe('disconnect');
    // 0.5 * min(30 000, 1000 * 2^0)
    expect(events).toEqual([['reconnecting', 1, 500]]);
    expect(xmpp.reconnect.attempt).toBe(1);

    await vi.advanceTimersByTimeAsync(499);
    expect(server.connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.connections).toHaveLength(2);

    const second = await server.nextConnection();
    expect(second).not.toBe(peer);
    const order: string[] = [];
    xmpp.on('online', () => order.push('online'));
    xmpp.reconnect.on('reconnected', (info) => order.push(`reconnected resumed=${info.resumed}`));
    await second.login({ jid: 'user@localhost/second' });
    await until(() => xmpp.status === 'online');
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual([['reconnecting', 1, 500], ['reconnected']]);
    expect(order).toEqual(['online', 'reconnected resumed=false']);
    // a new session, so `online` again with the new JID
    expect(onlines).toEqual(['user@localhost/first', 'user@localhost/second']);
    expect(xmpp.jid?.toString()).toBe('user@localhost/second');
    // the reconnect went to the same service
    expect(xmpp.service).toBe('memory://localhost');

    await xmpp.stop();
  });

  it('does not emit reconnected on the first login', async () => {
    const ctx = setup();
    await goOnline(ctx);
    expect(ctx.events).toEqual([]);
    expect(ctx.xmpp.reconnect.attempt).toBe(0);
    await ctx.xmpp.stop();
  });

  it('grows the delay bound exponentially on consecutive failures, numbering the attempts', async () => {
    const ctx = setup({ reconnect: { initialDelay: 1000, factor: 2, maxDelay: 5000, random: () => 0.999 } });
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    server.refuse = true;
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 999]]);

    await vi.advanceTimersByTimeAsync(999);
    expect(reconnecting(events)).toEqual([
      [1, 999],
      [2, 1998],
    ]);
    await vi.advanceTimersByTimeAsync(1998);
    await vi.advanceTimersByTimeAsync(3996);
    // capped at maxDelay from the fourth attempt on
    await vi.advanceTimersByTimeAsync(4995);
    expect(reconnecting(events)).toEqual([
      [1, 999],
      [2, 1998],
      [3, 3996],
      [4, 4995],
      [5, 4995],
    ]);
    expect(xmpp.reconnect.attempt).toBe(5);
    expect(xmpp.status).toBe('disconnect');
    // refused connections never reached the server
    expect(server.connections).toHaveLength(1);

    // the server comes back: attempt 5 succeeds
    server.refuse = false;
    await vi.advanceTimersByTimeAsync(4995);
    const next = await server.nextConnection();
    await next.login();
    await until(() => xmpp.status === 'online');
    expect(events.at(-1)).toEqual(['reconnected']);
    expect(reconnecting(events)).toHaveLength(5);
    await xmpp.stop();
  });

  it('waits exactly the jittered delay, not the bound, before each attempt', async () => {
    const values = [0.1, 0.9];
    const ctx = setup({ reconnect: { initialDelay: 1000, random: () => values.shift() ?? 0 } });
    const { server, events } = ctx;
    const peer = await goOnline(ctx);
    server.refuse = true;
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 100]]);
    await vi.advanceTimersByTimeAsync(99);
    expect(reconnecting(events)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    // attempt 1 was refused; attempt 2 within a bound of 2000
    expect(reconnecting(events)).toEqual([
      [1, 100],
      [2, 1800],
    ]);
    await ctx.xmpp.stop();
  });

  it('gives up after maxAttempts with a failed event and makes no further attempts', async () => {
    const ctx = setup({ reconnect: { initialDelay: 100, maxAttempts: 3, random: () => 0.5 } });
    const { server, xmpp, events, failures } = ctx;
    const peer = await goOnline(ctx);
    server.refuse = true;
    const factory = vi.spyOn(server.factory, 'create');
    await cut(peer);
    await vi.advanceTimersByTimeAsync(50 + 100 + 200);
    expect(reconnecting(events)).toEqual([
      [1, 50],
      [2, 100],
      [3, 200],
    ]);
    expect(factory).toHaveBeenCalledTimes(3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(Error);
    expect(failures[0]?.message).toMatch(/3/);
    expect(events.at(-1)?.[0]).toBe('failed');

    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(factory).toHaveBeenCalledTimes(3);
    expect(reconnecting(events)).toHaveLength(3);
    expect(failures).toHaveLength(1);
    expect(xmpp.status).toBe('disconnect');

    // the client can still be stopped and started again by hand
    await xmpp.stop();
    expect(xmpp.status).toBe('offline');
  });

  it('counts failed logins (not only refused connections) as attempts', async () => {
    const ctx = setup({ reconnect: { initialDelay: 1000, random: () => 0.5 } });
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    await vi.advanceTimersByTimeAsync(500);
    const second = await server.nextConnection();
    // the link dies again during the login
    await second.nextHeader();
    second.cut();
    await vi.advanceTimersByTimeAsync(0);
    expect(reconnecting(events)).toEqual([
      [1, 500],
      [2, 1000],
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    const third = await server.nextConnection();
    await third.login();
    await until(() => xmpp.status === 'online');
    expect(events.at(-1)).toEqual(['reconnected']);
    await xmpp.stop();
  });

  it('resets the attempt counter after resetAfter ms online', async () => {
    const ctx = setup({ reconnect: { initialDelay: 1000, resetAfter: 30_000, random: () => 0.5 } });
    const { server, xmpp, events } = ctx;
    let peer = await goOnline(ctx);
    server.refuse = true;
    await cut(peer);
    await vi.advanceTimersByTimeAsync(500); // attempt 1 refused
    server.refuse = false;
    await vi.advanceTimersByTimeAsync(1000); // attempt 2 connects
    peer = await server.nextConnection();
    await peer.login();
    await until(() => xmpp.status === 'online');
    expect(xmpp.reconnect.attempt).toBe(2);

    // not yet stable
    await vi.advanceTimersByTimeAsync(29_999);
    expect(xmpp.reconnect.attempt).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(xmpp.reconnect.attempt).toBe(0);

    events.length = 0;
    await cut(peer);
    // the bound starts over at initialDelay
    expect(reconnecting(events)).toEqual([[1, 500]]);
    await xmpp.stop();
  });

  it('keeps counting when the link drops again before resetAfter, and restarts the stability clock', async () => {
    const ctx = setup({ reconnect: { initialDelay: 1000, resetAfter: 30_000, random: () => 0.5 } });
    const { server, xmpp, events } = ctx;
    let peer = await goOnline(ctx);
    await cut(peer);
    await vi.advanceTimersByTimeAsync(500);
    peer = await server.nextConnection();
    await peer.login();
    await until(() => xmpp.status === 'online');
    expect(xmpp.reconnect.attempt).toBe(1);
    // up for 10 s only
    await vi.advanceTimersByTimeAsync(10_000);
    await cut(peer);
    expect(reconnecting(events)).toEqual([
      [1, 500],
      [2, 1000],
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    peer = await server.nextConnection();
    await peer.login();
    await until(() => xmpp.status === 'online');
    expect(xmpp.reconnect.attempt).toBe(2);
    // the timer of the short-lived connection would have fired 19 s from now: it was cancelled
    await vi.advanceTimersByTimeAsync(29_999);
    expect(xmpp.reconnect.attempt).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(xmpp.reconnect.attempt).toBe(0);
    await xmpp.stop();
  });

  it('does not reconnect after stop()', async () => {
    const ctx = setup();
    const { server, xmpp, events, statuses } = ctx;
    await goOnline(ctx);
    const factory = vi.spyOn(server.factory, 'create');
    await xmpp.stop();
    expect(xmpp.status).toBe('offline');
    expect(statuses.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(factory).not.toHaveBeenCalled();
    expect(server.connections).toHaveLength(1);
    expect(events).toEqual([]);
    expect(xmpp.status).toBe('offline');
  });

  it('stop() while an attempt is scheduled cancels it and ends offline', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 500]]);
    await xmpp.stop();
    expect(xmpp.status).toBe('offline');
    expect(xmpp.reconnect.attempt).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('offline');
  });

  it('does not reconnect after a start() that failed to connect', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    server.refuse = true;
    const factory = vi.spyOn(server.factory, 'create');
    await expect(xmpp.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(xmpp.status).toBe('offline');
    server.refuse = false;
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(server.connections).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('does not reconnect when the client was never online (link lost during the first login)', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const started = xmpp.start();
    started.catch(() => undefined);
    const peer = await server.nextConnection();
    await peer.nextHeader();
    peer.cut();
    await expect(started).rejects.toThrow();
    expect(xmpp.status).toBe('offline');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(server.connections).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('does not reconnect after a restart that failed, even though the client was online before', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    await goOnline(ctx);
    await xmpp.stop();
    const started = xmpp.start();
    started.catch(() => undefined);
    const peer = await server.nextConnection();
    await peer.nextHeader();
    peer.cut();
    await expect(started).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(server.connections).toHaveLength(2);
    expect(events).toEqual([]);
    expect(xmpp.status).toBe('offline');
  });

  it('after a stop() and a new start(), the fresh login is not a "reconnected"', async () => {
    const ctx = setup();
    const { xmpp, events, onlines } = ctx;
    await goOnline(ctx, 'user@localhost/a');
    await xmpp.stop();
    await goOnline(ctx, 'user@localhost/b');
    expect(events).toEqual([]);
    expect(onlines).toEqual(['user@localhost/a', 'user@localhost/b']);
    await xmpp.stop();
  });

  it('stops after an authentication failure during a reconnect: failed(SASLError), no loop', async () => {
    const ctx = setup();
    const { server, xmpp, events, failures } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    await vi.advanceTimersByTimeAsync(500);
    const second = await server.nextConnection();
    await second.login({ authFailure: 'not-authorized' });
    await until(() => failures.length === 1);
    expect(failures[0]).toBeInstanceOf(SASLError);
    expect(failures[0]).toMatchObject({ condition: 'not-authorized' });
    expect(xmpp.lastFailure).toBeInstanceOf(SASLError);

    const factory = vi.spyOn(server.factory, 'create');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(factory).not.toHaveBeenCalled();
    expect(server.connections).toHaveLength(2);
    expect(reconnecting(events)).toEqual([[1, 500]]);
    expect(events.filter((e) => e[0] === 'reconnected')).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(xmpp.status).not.toBe('online');
  });

  it('never reconnects with reconnect: false', async () => {
    const ctx = setup({ reconnect: false });
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(xmpp.status).toBe('disconnect');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(events).toEqual([]);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('disconnect');
  });

  it('reconnect: false, then reconnect.start(), reconnects on the next cut', async () => {
    const ctx = setup({ reconnect: false });
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    xmpp.reconnect.start();
    await cut(peer);
    // the defaults apply: bound 1000, Math.random
    expect(reconnecting(events)).toHaveLength(1);
    const [attempt, delay] = reconnecting(events)[0] as [number, number];
    expect(attempt).toBe(1);
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.connections).toHaveLength(2);
    await (await server.nextConnection()).login();
    await until(() => xmpp.status === 'online');
    expect(events.at(-1)).toEqual(['reconnected']);
    await xmpp.stop();
  });

  it('reconnect.stop() cancels a scheduled attempt', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 500]]);
    xmpp.reconnect.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('disconnect');
    expect(reconnecting(events)).toHaveLength(1);
  });

  it('reconnect.stop() while online prevents the reconnect, reconnect.start() re-enables it', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    let peer = await goOnline(ctx);
    xmpp.reconnect.stop();
    xmpp.reconnect.start();
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 500]]);
    await vi.advanceTimersByTimeAsync(500);
    peer = await server.nextConnection();
    await peer.login();
    await until(() => xmpp.status === 'online');
    expect(events.at(-1)).toEqual(['reconnected']);

    xmpp.reconnect.stop();
    await cut(peer);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.connections).toHaveLength(2);
    expect(reconnecting(events)).toHaveLength(1);
  });

  it('a stop() during a hanging reconnect attempt ends offline with no further attempts', async () => {
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    server.hang = true;
    const factory = vi.spyOn(server.factory, 'create');
    await vi.advanceTimersByTimeAsync(500);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(xmpp.status).toBe('connecting');
    const stopped = xmpp.stop();
    await vi.advanceTimersByTimeAsync(5000);
    await stopped;
    expect(xmpp.status).toBe('offline');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(factory).toHaveBeenCalledTimes(1);
    expect(reconnecting(events)).toEqual([[1, 500]]);
    expect(xmpp.status).toBe('offline');
  });

  it('reconnects to the service it was connected to', async () => {
    const ctx = setup();
    const { server, xmpp } = ctx;
    const services: string[] = [];
    xmpp.on('connecting', (s) => services.push(s));
    const peer = await goOnline(ctx);
    await cut(peer);
    await vi.advanceTimersByTimeAsync(500);
    await (await server.nextConnection()).login();
    await until(() => xmpp.status === 'online');
    expect(services).toEqual(['memory://localhost', 'memory://localhost']);
    await xmpp.stop();
  });
});

describe('Reconnect in a browser', () => {
  /** Make globalThis look like a window: capture its `online` listeners. */
  function stubWindow(onLine: boolean) {
    const listeners = new Map<string, Set<() => void>>();
    const addEventListener = vi.fn((type: string, listener: () => void) => {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)?.add(listener);
    });
    const removeEventListener = vi.fn((type: string, listener: () => void) => {
      listeners.get(type)?.delete(listener);
    });
    const navigator = { onLine };
    vi.stubGlobal('navigator', navigator);
    vi.stubGlobal('addEventListener', addEventListener);
    vi.stubGlobal('removeEventListener', removeEventListener);
    const fire = (type: string) => {
      for (const listener of [...(listeners.get(type) ?? [])]) listener();
    };
    return { navigator, listeners, addEventListener, removeEventListener, fire };
  }

  it('listens for the window online event only while an attempt waits', async () => {
    const win = stubWindow(true);
    const ctx = setup({ reconnect: { initialDelay: 1000, random: () => 0.5 } });
    const peer = await goOnline(ctx);
    expect(win.addEventListener).not.toHaveBeenCalled();
    await cut(peer);
    expect(win.listeners.get('online')?.size).toBe(1);
    await vi.advanceTimersByTimeAsync(500); // the attempt runs: the listener goes
    expect(win.listeners.get('online')?.size ?? 0).toBe(0);
    await (await ctx.server.nextConnection()).login();
    await until(() => ctx.xmpp.status === 'online');
    await ctx.xmpp.stop();
    expect(win.listeners.get('online')?.size ?? 0).toBe(0);
  });

  it('with reconnect: false, never touches the window', async () => {
    const win = stubWindow(true);
    const ctx = setup({ reconnect: false });
    const peer = await goOnline(ctx);
    await cut(peer);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(win.addEventListener).not.toHaveBeenCalled();
    expect(ctx.server.connections).toHaveLength(1);
  });

  it('while navigator.onLine is false: reconnecting(n, -1) and no attempt until the window goes online', async () => {
    const win = stubWindow(true);
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    win.navigator.onLine = false;
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, -1]]);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('disconnect');
    expect(reconnecting(events)).toHaveLength(1);

    win.navigator.onLine = true;
    win.fire('online');
    await vi.advanceTimersByTimeAsync(0);
    expect(server.connections).toHaveLength(2);
    await (await server.nextConnection()).login();
    await until(() => xmpp.status === 'online');
    expect(events).toEqual([['reconnecting', 1, -1], ['reconnected']]);
    await xmpp.stop();
  });

  it('offline from the start (navigator.onLine false at the cut) waits for the network again after a failed attempt', async () => {
    const win = stubWindow(false);
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, -1]]);
    server.refuse = true;
    win.fire('online'); // navigator still says offline: the attempt runs and is refused
    await vi.advanceTimersByTimeAsync(0);
    expect(reconnecting(events)).toEqual([
      [1, -1],
      [2, -1],
    ]);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(reconnecting(events)).toHaveLength(2);
    server.refuse = false;
    win.navigator.onLine = true;
    win.fire('online');
    await vi.advanceTimersByTimeAsync(0);
    await (await server.nextConnection()).login();
    await until(() => xmpp.status === 'online');
    expect(events.at(-1)).toEqual(['reconnected']);
    await xmpp.stop();
  });

  it('with a scheduled attempt, the window online event runs it at once', async () => {
    const win = stubWindow(true);
    const ctx = setup({ reconnect: { initialDelay: 10_000, random: () => 0.5 } });
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, 5000]]);
    win.fire('online');
    await vi.advanceTimersByTimeAsync(0);
    expect(server.connections).toHaveLength(2);
    await (await server.nextConnection()).login();
    await until(() => xmpp.status === 'online');
    // the scheduled timer is gone: no second attempt when it would have fired
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.connections).toHaveLength(2);
    expect(events).toEqual([['reconnecting', 1, 5000], ['reconnected']]);
    await xmpp.stop();
  });

  it('ignores the window online event when nothing is scheduled', async () => {
    const win = stubWindow(true);
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    await goOnline(ctx);
    win.fire('online');
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('online');
    await xmpp.stop();
    win.fire('online');
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('offline');
    expect(events).toEqual([]);
  });

  it('ignores the window online event after reconnect.stop()', async () => {
    const win = stubWindow(false);
    const ctx = setup();
    const { server, xmpp, events } = ctx;
    const peer = await goOnline(ctx);
    await cut(peer);
    expect(reconnecting(events)).toEqual([[1, -1]]);
    xmpp.reconnect.stop();
    win.navigator.onLine = true;
    win.fire('online');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.connections).toHaveLength(1);
    expect(xmpp.status).toBe('disconnect');
  });

  it('dispose() during a waiting attempt cancels it and removes the window listener', async () => {
    const win = stubWindow(false);
    const ctx = setup();
    const peer = await goOnline(ctx);
    await cut(peer);
    const listener = win.addEventListener.mock.calls[0]?.[1];
    expect(win.listeners.get('online')?.size).toBe(1);
    ctx.xmpp.reconnect.dispose();
    expect(win.removeEventListener).toHaveBeenCalledWith('online', listener);
    expect(win.listeners.get('online')?.size).toBe(0);
    win.navigator.onLine = true;
    win.fire('online');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ctx.server.connections).toHaveLength(1);
  });
});
