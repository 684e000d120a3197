import { AbortError, TimeoutError, XMPPError } from '@xmppkit/error';

/** An event map: event name to the tuple of listener arguments. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

type Args<E, K extends keyof E> = E[K] extends unknown[] ? E[K] : never;
export type Listener<E, K extends keyof E> = (...args: Args<E, K>) => void;

/** The typed face of an EventEmitter whose events are described by `E`. */
export interface TypedEmitter<E extends EventMap<E>> {
  on<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  addListener<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  prependListener<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  once<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  off<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  removeListener<K extends keyof E & string>(event: K, listener: Listener<E, K>): this;
  removeAllListeners(event?: keyof E & string): this;
  emit<K extends keyof E & string>(event: K, ...args: Args<E, K>): boolean;
  listenerCount(event: keyof E & string): number;
  setMaxListeners(n: number): this;
}

type AnyListener = ((...args: never[]) => void) & { listener?: AnyListener };

type Table = Record<string, AnyListener[] | undefined>;

/**
 * Listener tables: objects whose prototype chain ends in null (no `toString` or `__proto__` to trip
 * over) yet keep V8's fast shared shapes, about a third of a Map's size. Entries are never deleted
 * (that would switch the object to a slow dictionary), only set to undefined.
 */
const ListenerTable = function ListenerTable() {} as unknown as new () => Table;
ListenerTable.prototype = Object.create(null) as object;

/**
 * A small EventEmitter with Node's semantics: listeners run in order, a listener added or removed
 * during an emit does not change that emit, and an `error` event with no listener throws.
 * The same code runs in Node.js and browsers (no `events` polyfill in the bundle).
 */
class Emitter {
  #listeners: Table = new ListenerTable();
  declare addListener: Emitter['on'];
  declare removeListener: Emitter['off'];

  // `prepend` is internal (the public type has no third parameter).
  on(event: string, listener: AnyListener, prepend?: boolean): this {
    const list = this.#listeners[event];
    // concat() allocates exactly what is needed (push or spread over-allocate: ~130 bytes per array).
    this.#listeners[event] = !list ? [listener] : prepend ? [listener].concat(list) : list.concat([listener]);
    return this;
  }

  prependListener(event: string, listener: AnyListener): this {
    return this.on(event, listener, true);
  }

  once(event: string, listener: AnyListener): this {
    let fired = false;
    const wrapper: AnyListener = (...args) => {
      // An emit already running holds its own copy of the list: a nested emit must not make it run twice.
      if (fired) return;
      fired = true;
      this.off(event, wrapper);
      (listener as (...a: unknown[]) => void).apply(this, args);
    };
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off(event: string, listener: AnyListener): this {
    const list = this.#listeners[event];
    if (list)
      for (let i = list.length; i--; ) {
        const f = list[i]!;
        if (f === listener || f.listener === listener) {
          this.#listeners[event] = list.length > 1 ? list.slice(0, i).concat(list.slice(i + 1)) : undefined;
          break;
        }
      }
    return this;
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.#listeners = new ListenerTable();
    else this.#listeners[event] = undefined;
    return this;
  }

  // Listeners get exactly the arguments given. A rest array and apply() measured as fast as calling
  // each arity directly (V8, optimised or not).
  emit(event: string, ...args: unknown[]): boolean {
    const list = this.#listeners[event];
    if (!list) {
      if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(`unhandled error event: ${String(args[0])}`);
      return false;
    }
    for (let i = 0; i < list.length; i++) (list[i] as (...a: unknown[]) => void).apply(this, args);
    return true;
  }

  listenerCount(event: string): number {
    return this.#listeners[event]?.length ?? 0;
  }

  /** Kept for compatibility with Node's EventEmitter; there is no listener limit. */
  setMaxListeners(_n: number): this {
    return this;
  }
}
Emitter.prototype.addListener = Emitter.prototype.on;
Emitter.prototype.removeListener = Emitter.prototype.off;

/**
 * An EventEmitter typed by an event map.
 *
 * ```ts
 * class Thing extends EventEmitter<{ ready: []; data: [chunk: string] }> {}
 * ```
 */
export const EventEmitter = Emitter as unknown as new <E extends EventMap<E>>() => TypedEmitter<E>;

/** Anything with `on`/`off` (an EventEmitter, typed or not). */
export interface Subscribable {
  on(event: string, listener: never): unknown;
  off(event: string, listener: never): unknown;
}

export interface PromiseOptions {
  /** reject when this event fires first (default `error`; `null` to disable) */
  rejectEvent?: string | null;
  /** reject with TimeoutError after this many milliseconds */
  timeout?: number;
  /** reject with AbortError when this signal aborts */
  signal?: AbortSignal;
}

/** Resolve with the first argument of the next `event`; reject on `rejectEvent`, timeout or abort. Listeners are always removed. */
export function promise<T = unknown>(target: Subscribable, event: string, options: PromiseOptions = {}): Promise<T> {
  const { rejectEvent = 'error', timeout: ms, signal } = options;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      target.off(event, onEvent as never);
      if (rejectEvent) target.off(rejectEvent, onError as never);
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onEvent = (value: T): void => {
      cleanup();
      resolve(value);
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(err);
    };
    const onAbort = (): void => {
      cleanup();
      const reason: unknown = signal?.reason;
      reject(reason instanceof XMPPError ? reason : new AbortError('aborted', reason));
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    target.on(event, onEvent as never);
    if (rejectEvent) target.on(rejectEvent, onError as never);
    if (ms !== undefined) timer = setTimeout(() => onError(new TimeoutError(`no "${event}" within ${ms} ms`)), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolve after `ms` milliseconds, or reject with AbortError when `signal` aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Race `p` against a deadline; rejects with TimeoutError when `ms` passes first. The timer is always cleared. */
export function timeout<T>(p: Promise<T>, ms: number, text?: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(text ?? `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export { TimeoutError, AbortError };
