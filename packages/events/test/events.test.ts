import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, EventEmitter, TimeoutError, delay, promise, timeout } from '@xmppkit/events';
import { XMPPError } from '@xmppkit/error';

type DoorEvents = { open: [by: string, at: number]; close: []; error: [err: Error]; fail: [reason: string] };

class Door extends EventEmitter<DoorEvents> {}

/** Listeners promise() might have left behind on `door`. */
function listeners(door: Door): number {
  return door.listenerCount('open') + door.listenerCount('close') + door.listenerCount('error') + door.listenerCount('fail');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EventEmitter', () => {
  it('delivers typed arguments to on() listeners and counts them', () => {
    const door = new Door();
    const seen: Array<[string, number]> = [];
    const onOpen = (by: string, at: number): void => void seen.push([by, at]);
    door.on('open', onOpen);
    expect(door.listenerCount('open')).toBe(1);
    expect(door.emit('open', 'alice', 1)).toBe(true);
    expect(door.emit('open', 'bob', 2)).toBe(true);
    expect(seen).toEqual([
      ['alice', 1],
      ['bob', 2],
    ]);
    door.off('open', onOpen);
    expect(door.listenerCount('open')).toBe(0);
    expect(door.emit('open', 'carol', 3)).toBe(false);
    expect(seen).toHaveLength(2);
  });

  it('once() fires a single time and prependListener() runs first', () => {
    const door = new Door();
    const order: string[] = [];
    door.once('close', () => order.push('once'));
    door.on('close', () => order.push('on'));
    door.prependListener('close', () => order.push('prepended'));
    door.emit('close');
    door.emit('close');
    expect(order).toEqual(['prepended', 'once', 'on', 'prepended', 'on']);
  });

  it('removeAllListeners() clears one event or all of them, and methods chain', () => {
    const door = new Door();
    const noop = (): void => undefined;
    expect(door.on('close', noop).on('fail', noop).addListener('open', noop)).toBe(door);
    door.removeAllListeners('close');
    expect(door.listenerCount('close')).toBe(0);
    expect(door.listenerCount('fail')).toBe(1);
    door.removeAllListeners();
    expect(listeners(door)).toBe(0);
  });

  it('off() removes a once() listener by its original function, and the last copy first', () => {
    const door = new Door();
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    door.once('close', a);
    door.off('close', a);
    expect(door.emit('close')).toBe(false);
    door.on('close', a).on('close', () => calls.push('b')).on('close', a);
    door.off('close', a);
    door.emit('close');
    expect(calls).toEqual(['a', 'b']);
  });

  it('an emit runs the listeners it started with, whatever they add or remove', () => {
    const door = new Door();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    door.on('close', () => {
      calls.push('first');
      door.off('close', second);
      door.on('close', () => calls.push('late'));
    });
    door.on('close', second);
    door.emit('close');
    expect(calls).toEqual(['first', 'second']);
    door.emit('close');
    expect(calls).toEqual(['first', 'second', 'first', 'late']);
  });

  it('an error event with no listener throws that error (a non-Error is wrapped)', () => {
    const door = new Door();
    const err = new Error('jammed');
    expect(() => door.emit('error', err)).toThrow(err);
    expect(() => (door as unknown as { emit(e: string, v: unknown): boolean }).emit('error', 'plain')).toThrow(/unhandled error event: plain/);
    door.on('error', () => undefined);
    expect(door.emit('error', err)).toBe(true);
  });

  it('event names that exist on Object.prototype are ordinary events', () => {
    const any = new (EventEmitter as new () => EventEmitter<Record<string, unknown[]>>)();
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(any.listenerCount(name)).toBe(0);
      expect(any.emit(name)).toBe(false);
      const seen: unknown[] = [];
      any.on(name, (v: unknown) => void seen.push(v));
      expect(any.emit(name, 1)).toBe(true);
      expect(seen).toEqual([1]);
      expect(any.listenerCount(name)).toBe(1);
      any.removeAllListeners(name);
      expect(any.emit(name, 2)).toBe(false);
    }
  });

  it('passes exactly the arguments given, whatever their number', () => {
    const any = new (EventEmitter as new () => EventEmitter<Record<string, unknown[]>>)();
    const seen: unknown[][] = [];
    any.on('x', (...args: unknown[]) => void seen.push(args));
    any.emit('x');
    any.emit('x', undefined);
    any.emit('x', 1, 2);
    any.emit('x', 1, 2, 3, 4);
    expect(seen).toEqual([[], [undefined], [1, 2], [1, 2, 3, 4]]);
    expect(seen.map((a) => a.length)).toEqual([0, 1, 2, 4]);
  });

  it('a once() listener runs once even when an earlier listener re-emits the event', () => {
    const door = new Door();
    let calls = 0;
    let nested = false;
    door.on('close', () => {
      if (nested) return;
      nested = true;
      door.emit('close');
    });
    door.once('close', () => calls++);
    door.emit('close');
    expect(calls).toBe(1);
  });

  it('listeners are called with the emitter as `this`', () => {
    const door = new Door();
    let self: unknown;
    door.on('close', function (this: unknown) {
      self = this;
    });
    door.emit('close');
    expect(self).toBe(door);
  });
});

describe('promise()', () => {
  it('resolves with the first argument of the event and removes its listeners', async () => {
    const door = new Door();
    const p = promise<string>(door, 'open');
    expect(door.listenerCount('open')).toBe(1);
    expect(door.listenerCount('error')).toBe(1);
    door.emit('open', 'alice', 42);
    await expect(p).resolves.toBe('alice');
    expect(listeners(door)).toBe(0);
  });

  it('resolves only once: a later event changes nothing', async () => {
    const door = new Door();
    const p = promise<string>(door, 'open');
    door.emit('open', 'first', 1);
    door.emit('open', 'second', 2);
    await expect(p).resolves.toBe('first');
  });

  it('resolves with undefined for an event without arguments', async () => {
    const door = new Door();
    const p = promise(door, 'close');
    door.emit('close');
    await expect(p).resolves.toBeUndefined();
    expect(listeners(door)).toBe(0);
  });

  it('rejects with the error of an `error` event and removes its listeners', async () => {
    const door = new Door();
    const p = promise(door, 'open');
    const err = new Error('boom');
    door.emit('error', err);
    await expect(p).rejects.toBe(err);
    expect(listeners(door)).toBe(0);
  });

  it('rejects on a custom rejectEvent instead of `error`', async () => {
    const door = new Door();
    const p = promise(door, 'open', { rejectEvent: 'fail' });
    expect(door.listenerCount('error')).toBe(0);
    expect(door.listenerCount('fail')).toBe(1);
    door.emit('fail', 'jammed');
    await expect(p).rejects.toBe('jammed');
    expect(listeners(door)).toBe(0);
  });

  it('with rejectEvent: null listens to no error event and still resolves', async () => {
    const door = new Door();
    const p = promise<string>(door, 'open', { rejectEvent: null });
    expect(door.listenerCount('error')).toBe(0);
    expect(door.listenerCount('open')).toBe(1);
    // An error with some other listener does not reach the promise.
    door.on('error', () => undefined);
    door.emit('error', new Error('ignored'));
    door.emit('open', 'alice', 1);
    await expect(p).resolves.toBe('alice');
    expect(door.listenerCount('open')).toBe(0);
    expect(door.listenerCount('error')).toBe(1);
  });

  it('rejects with TimeoutError after `timeout` ms and removes its listeners and timer', async () => {
    vi.useFakeTimers();
    const door = new Door();
    const p = promise(door, 'open', { timeout: 1000 });
    const settled = vi.fn();
    p.then(settled, settled);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toBeInstanceOf(XMPPError);
    expect((err as TimeoutError).condition).toBe('timeout');
    expect((err as TimeoutError).message).toContain('"open"');
    expect(listeners(door)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer when the event comes first', async () => {
    vi.useFakeTimers();
    const door = new Door();
    const p = promise<string>(door, 'open', { timeout: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    door.emit('open', 'alice', 1);
    await expect(p).resolves.toBe('alice');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(door)).toBe(0);
  });

  it('clears its timer when the error comes first', async () => {
    vi.useFakeTimers();
    const door = new Door();
    const p = promise(door, 'open', { timeout: 1000 });
    door.emit('error', new Error('boom'));
    await expect(p).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the signal reason when it aborts, removing every listener and its timer', async () => {
    vi.useFakeTimers();
    const door = new Door();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const p = promise(door, 'open', { signal: controller.signal, timeout: 5000 });
    expect(listeners(door)).toBe(2);
    const reason = new AbortError('caller gave up');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(listeners(door)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('wraps any other abort reason (a plain abort() gives a DOMException) in AbortError, keeping it as cause', async () => {
    const door = new Door();
    const controller = new AbortController();
    const p = promise(door, 'open', { signal: controller.signal });
    const reason = new Error('went away');
    controller.abort(reason);
    await expect(p).rejects.toBeInstanceOf(AbortError);
    await expect(p).rejects.toMatchObject({ condition: 'aborted', cause: reason });
    const plain = new AbortController();
    const q = promise(door, 'open', { signal: plain.signal });
    plain.abort();
    await expect(q).rejects.toBeInstanceOf(AbortError);
    expect(listeners(door)).toBe(0);
  });

  it('rejects with AbortError when the abort reason is not an Error', async () => {
    const door = new Door();
    const controller = new AbortController();
    const p = promise(door, 'open', { signal: controller.signal });
    controller.abort('just a string');
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).condition).toBe('aborted');
    expect(listeners(door)).toBe(0);
  });

  it('rejects at once, adding no listener or timer, for an already aborted signal', async () => {
    vi.useFakeTimers();
    const door = new Door();
    const reason = new AbortError('too late');
    const p = promise(door, 'open', { signal: AbortSignal.abort(reason), timeout: 1000 });
    expect(listeners(door)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await expect(p).rejects.toBe(reason);
  });

  it('stops listening to the signal once resolved', async () => {
    const door = new Door();
    const controller = new AbortController();
    const p = promise<string>(door, 'open', { signal: controller.signal });
    door.emit('open', 'alice', 1);
    await expect(p).resolves.toBe('alice');
    // Aborting afterwards does nothing (the promise is settled and the listener is gone).
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    controller.abort();
    expect(removed).not.toHaveBeenCalled();
    await expect(p).resolves.toBe('alice');
  });

  it('works with any Subscribable, not only EventEmitter', async () => {
    const handlers = new Map<string, Set<(...args: never[]) => void>>();
    const target = {
      on(event: string, fn: (...args: never[]) => void) {
        if (!handlers.has(event)) handlers.set(event, new Set());
        handlers.get(event)?.add(fn);
      },
      off(event: string, fn: (...args: never[]) => void) {
        handlers.get(event)?.delete(fn);
      },
    };
    const p = promise<number>(target, 'value');
    for (const fn of handlers.get('value') ?? []) (fn as unknown as (v: number) => void)(7);
    await expect(p).resolves.toBe(7);
    expect(handlers.get('value')?.size).toBe(0);
    expect(handlers.get('error')?.size).toBe(0);
  });
});

describe('delay()', () => {
  it('resolves after ms and leaves no timer', async () => {
    vi.useFakeTimers();
    const done = vi.fn();
    const p = delay(100).then(done);
    await vi.advanceTimersByTimeAsync(99);
    expect(done).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with AbortError when the signal aborts and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const p = delay(100, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).condition).toBe('aborted');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for an already aborted signal, starting no timer', async () => {
    vi.useFakeTimers();
    const p = delay(100, AbortSignal.abort());
    expect(vi.getTimerCount()).toBe(0);
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('stops listening to the signal once it resolved', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const p = delay(10, controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    await expect(p).resolves.toBeUndefined();
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
    controller.abort();
    await expect(p).resolves.toBeUndefined();
  });
});

describe('timeout()', () => {
  it('resolves with the value of a promise that settles in time and clears its timer', async () => {
    vi.useFakeTimers();
    const p = timeout(Promise.resolve('value'), 1000);
    await expect(p).resolves.toBe('value');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes on the rejection of the promise and clears its timer', async () => {
    vi.useFakeTimers();
    const err = new Error('inner');
    const p = timeout(Promise.reject(err), 1000);
    await expect(p).rejects.toBe(err);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with TimeoutError when the deadline passes first, and leaves no timer', async () => {
    vi.useFakeTimers();
    const p = timeout(new Promise<never>(() => undefined), 500);
    const caught = p.catch((e: unknown) => e);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    const err = await caught;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).condition).toBe('timeout');
    expect((err as TimeoutError).message).toContain('500 ms');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('uses the given text for the TimeoutError', async () => {
    vi.useFakeTimers();
    const caught = timeout(new Promise<never>(() => undefined), 10, 'no pong').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const err = (await caught) as TimeoutError;
    expect(err.text).toBe('no pong');
    expect(err.message).toBe('timeout - no pong');
  });

  it('resolves a promise that settles just before the deadline', async () => {
    vi.useFakeTimers();
    const p = timeout(delay(99).then(() => 'in time'), 100);
    await vi.advanceTimersByTimeAsync(99);
    await expect(p).resolves.toBe('in time');
    expect(vi.getTimerCount()).toBe(0);
  });
});
