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

/** The delay before attempt `attempt` (1-based): full jitter, `random() * min(maxDelay, initialDelay * factor^(attempt-1))`. */
export function backoff(attempt: number, options: Required<Pick<ReconnectOptions, 'initialDelay' | 'factor' | 'maxDelay'>>, random: () => number = Math.random): number {
  const bound = Math.min(options.maxDelay, options.initialDelay * options.factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * bound);
}

/**
 * Reconnects a client that lost its link after having been online: exponential backoff with full jitter,
 * never after an authentication failure or `stop()`, and in browsers at once when the network comes back
 * (and not at all while `navigator.onLine` is false). Stream management resumes the session when it can;
 * only if that fails does a new session start.
 */
export class Reconnect extends EventEmitter<ReconnectEvents> {
  initialDelay: number;
  factor: number;
  maxDelay: number;
  maxAttempts: number;
  resetAfter: number;
  /** attempts made since the last stable connection */
  attempt = 0;
  private enabled = true;
  private wasOnline = false;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private resetTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly random: () => number;
  private readonly globals: BrowserGlobals;
  private readonly onNetworkOnline = (): void => {
    if (this.timer !== undefined || this.waitingForNetwork) this.runNow();
  };
  private waitingForNetwork = false;
  /** an `online` event (a new session, not a resumption) followed the latest status `online` */
  private newSession = false;

  constructor(
    private readonly entity: Client,
    options: ReconnectOptions = {},
    private readonly services: ServiceChooser = () => [entity.service],
  ) {
    super();
    this.initialDelay = options.initialDelay ?? 1000;
    this.factor = options.factor ?? 2;
    this.maxDelay = options.maxDelay ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? Infinity;
    this.resetAfter = options.resetAfter ?? 30_000;
    this.random = options.random ?? Math.random;
    this.globals = globalThis as BrowserGlobals;

    entity.on('status', (status) => {
      if (status === 'online') this.onOnline();
    });
    entity.on('online', () => {
      this.newSession = true;
    });
    entity.on('disconnect', () => this.onDisconnect());
    entity.on('offline', () => this.reset());
  }

  /** Turn reconnection on (it is on by default). */
  start(): void {
    this.enabled = true;
  }

  /** Turn reconnection off and cancel a scheduled attempt. */
  stop(): void {
    this.enabled = false;
    this.cancelAttempt();
  }

  /** Stop for good (for a client that is thrown away). No browser listener is left behind. */
  dispose(): void {
    this.stop();
    clearTimeout(this.resetTimer);
  }

  /** The browser's `online` event is listened to only while an attempt waits (for its delay or for the network). */
  private watchNetwork(on: boolean): void {
    if (on) this.globals.addEventListener?.('online', this.onNetworkOnline);
    else this.globals.removeEventListener?.('online', this.onNetworkOnline);
  }

  private onOnline(): void {
    clearTimeout(this.resetTimer);
    const reconnected = this.wasOnline && (this.attempt > 0 || this.running);
    this.wasOnline = true;
    this.resetTimer = setTimeout(() => {
      this.attempt = 0;
    }, this.resetAfter);
    if (!reconnected) return;
    // The client's `online` event (new session) or stream management's `resumed` follows the status
    // change synchronously; report after them, saying which it was.
    this.newSession = false;
    queueMicrotask(() => this.emit('reconnected', { resumed: !this.newSession }));
  }

  private onDisconnect(): void {
    clearTimeout(this.resetTimer);
    if (!this.enabled || !this.wasOnline || this.running || this.entity.stopping || this.entity.isStarting) return;
    if (this.entity.lastFailure instanceof SASLError) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || !this.enabled) return;
    if (this.attempt >= this.maxAttempts) {
      this.emit('failed', new Error(`gave up after ${this.attempt} reconnection attempts`));
      return;
    }
    this.attempt++;
    if (this.globals.navigator?.onLine === false) {
      // No network: wait for the browser's `online` event instead of spinning.
      this.waitingForNetwork = true;
      this.watchNetwork(true);
      this.emit('reconnecting', this.attempt, -1);
      return;
    }
    const delay = backoff(this.attempt, this, this.random);
    this.emit('reconnecting', this.attempt, delay);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.watchNetwork(false);
      void this.run();
    }, delay);
    this.watchNetwork(true);
  }

  private runNow(): void {
    this.cancelAttempt();
    void this.run();
  }

  private cancelAttempt(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waitingForNetwork = false;
    this.watchNetwork(false);
  }

  private async run(): Promise<void> {
    if (!this.enabled || this.running || this.entity.status !== 'disconnect') return;
    this.running = true;
    let lastError: unknown;
    try {
      const seen = new Set<string>();
      for (const service of this.services()) {
        if (!service || seen.has(service)) continue;
        seen.add(service);
        try {
          await this.entity.establish(service);
          // the link may have dropped again in the meantime: go round once more
          if (this.entity.status === 'disconnect' && this.enabled && !this.entity.stopping) lastError = new Error('dropped right after reconnecting');
          else return;
        } catch (err) {
          lastError = err;
          if (err instanceof SASLError) break;
          if (!this.enabled || this.entity.stopping || this.entity.status !== 'disconnect') return;
        }
      }
    } finally {
      this.running = false;
    }
    if (lastError instanceof SASLError) {
      this.emit('failed', lastError);
      return;
    }
    if (this.enabled && this.entity.status === 'disconnect' && !this.entity.stopping) this.schedule();
  }

  private cancel(): void {
    this.cancelAttempt();
    clearTimeout(this.resetTimer);
  }

  private reset(): void {
    this.cancel();
    this.attempt = 0;
    this.wasOnline = false;
  }
}

/** Reconnection for a client built on client-core. */
export function reconnect(entity: Client, options: ReconnectOptions = {}, services?: ServiceChooser): Reconnect {
  return new Reconnect(entity, options, services);
}
