import type { Client } from '@xmppkit/client-core';
import { SASLError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';

export interface ReconnectOptions {
  /** the first delay's upper bound in ms (default 1000) */
  initialDelay?: number;
  /** growth of the bound per attempt (default 2) */
  factor?: number;
  /** the largest delay in ms (default 30 000) */
  maxDelay?: number;
  /** give up after this many attempts in a row (default: never) */
  maxAttempts?: number;
  /** a connection that stays up this many ms resets the attempt counter (default 30 000) */
  resetAfter?: number;
  /** random source in [0, 1), for tests (default Math.random) */
  random?: () => number;
}

export interface ReconnectEvents {
  /** attempt number `attempt` starts in `delay` ms (`delay` is -1 while the browser is offline) */
  reconnecting: [attempt: number, delay: number];
  /**
   * a connection was re-established: `resumed` tells whether the session was resumed (stream
   * management) or a new one started. Fires after the client's `online` event or the `resumed` event.
   */
  reconnected: [info: { resumed: boolean }];
  /** the attempts ran out (`maxAttempts`) or can never succeed (authentication failed) */
  failed: [error: Error];
}

/** Where the session can be re-established, first choice first (stream management puts its `location` first). */
export type ServiceChooser = () => Array<string | null | undefined>;

interface BrowserGlobals {
  navigator?: { onLine?: boolean };
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
}

const win = globalThis as BrowserGlobals;

const DEFAULTS = { initialDelay: 1000, factor: 2, maxDelay: 30_000, maxAttempts: Infinity, resetAfter: 30_000 };

/** The delay before attempt `attempt` (1-based): full jitter, `random() * min(maxDelay, initialDelay * factor^(attempt-1))`. */
export function backoff(attempt: number, options: Required<Pick<ReconnectOptions, 'initialDelay' | 'factor' | 'maxDelay'>>, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(options.maxDelay, options.initialDelay * options.factor ** Math.max(0, attempt - 1)));
}

/**
 * Reconnects a client that lost its link after having been online: exponential backoff with full jitter,
 * never after an authentication failure or `stop()`, and in browsers at once when the network comes back
 * (and not at all while `navigator.onLine` is false). Stream management resumes the session when it can;
 * only if that fails does a new session start.
 */
export class Reconnect extends EventEmitter<ReconnectEvents> {
  declare initialDelay: number;
  declare factor: number;
  declare maxDelay: number;
  declare maxAttempts: number;
  declare resetAfter: number;
  /** attempts made since the last stable connection */
  attempt = 0;
  #entity: Client;
  #services: ServiceChooser;
  /** the `random` option; backoff() defaults it to Math.random */
  #random: (() => number) | undefined;
  #stopped?: boolean;
  #wasOnline?: boolean;
  #running?: boolean;
  /** an `online` event (a new session, not a resumption) followed the latest status `online` */
  #newSession?: boolean;
  /** the scheduled attempt */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** resets `attempt` once a connection stays up */
  #stable: ReturnType<typeof setTimeout> | undefined;
  /** Runs the waiting attempt now: its timer fired, or the browser's `online` event did. */
  readonly #go = (): void => {
    this.#cancel();
    void this.#run();
  };

  constructor(entity: Client, options: ReconnectOptions = {}, services: ServiceChooser = () => [entity.service]) {
    super();
    this.#entity = entity;
    this.#services = services;
    let key: keyof typeof DEFAULTS;
    for (key in DEFAULTS) this[key] = options[key] ?? DEFAULTS[key];
    this.#random = options.random;

    entity.on('status', (status) => {
      if (status !== 'online') return;
      clearTimeout(this.#stable);
      const reconnected = this.#wasOnline && (this.attempt > 0 || this.#running);
      this.#wasOnline = true;
      this.#stable = setTimeout(() => {
        this.attempt = 0;
      }, this.resetAfter);
      if (!reconnected) return;
      // The client's `online` event (new session) or stream management's `resumed` follows the status
      // change synchronously; report after them, saying which it was.
      this.#newSession = false;
      queueMicrotask(() => this.emit('reconnected', { resumed: !this.#newSession }));
    });
    entity.on('online', () => {
      this.#newSession = true;
    });
    entity.on('disconnect', () => {
      clearTimeout(this.#stable);
      if (this.#wasOnline && !this.#running && !entity.stopping && !entity.isStarting && !(entity.lastFailure instanceof SASLError)) this.#schedule();
    });
    entity.on('offline', () => {
      this.#cancel();
      clearTimeout(this.#stable);
      this.attempt = 0;
      this.#wasOnline = false;
    });
  }

  /** Turn reconnection on (it is on by default). */
  start(): void {
    this.#stopped = false;
  }

  /** Turn reconnection off and cancel a scheduled attempt. */
  stop(): void {
    this.#stopped = true;
    this.#cancel();
  }

  /** Stop for good (for a client that is thrown away). No browser listener is left behind. */
  dispose(): void {
    this.stop();
    clearTimeout(this.#stable);
  }

  /** still worth trying: not stopped, and the client is down without being stopped */
  #down(): boolean {
    return !this.#stopped && this.#entity.status === 'disconnect' && !this.#entity.stopping;
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    if (this.attempt >= this.maxAttempts) {
      this.emit('failed', new Error(`gave up after ${this.attempt} attempts`));
      return;
    }
    const attempt = ++this.attempt;
    // No network: wait for the browser's `online` event instead of spinning.
    const delay = win.navigator?.onLine === false ? -1 : backoff(attempt, this, this.#random);
    // The browser's `online` event is listened to only while an attempt waits (for its delay or for the network).
    win.addEventListener?.('online', this.#go);
    if (delay >= 0) this.#timer = setTimeout(this.#go, delay);
    this.emit('reconnecting', attempt, delay);
  }

  #cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    win.removeEventListener?.('online', this.#go);
  }

  async #run(): Promise<void> {
    if (this.#running || !this.#down()) return;
    this.#running = true;
    let failure: SASLError | undefined;
    try {
      for (const service of new Set(this.#services()))
        if (service) {
          try {
            await this.#entity.establish(service);
          } catch (err) {
            // the same credentials would fail again
            if (err instanceof SASLError) {
              failure = err;
              break;
            }
          }
          // online again (or the link dropped again in the meantime: go round once more), stopped, or given up
          if (!this.#down()) return;
        }
    } finally {
      this.#running = false;
    }
    // still down (checked above, with nothing awaited since)
    if (failure) this.emit('failed', failure);
    else this.#schedule();
  }
}

/** Reconnection for a client built on client-core. */
export function reconnect(entity: Client, options?: ReconnectOptions, services?: ServiceChooser): Reconnect {
  return new Reconnect(entity, options, services);
}
