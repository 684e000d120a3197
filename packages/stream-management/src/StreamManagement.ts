import type { Client } from '@xmppkit/client-core';
import { seeOtherHost } from '@xmppkit/connection';
import { TimeoutError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import { jid as parseJid } from '@xmppkit/jid';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { parse, xml, type Element } from '@xmppkit/xml';
import { StreamManagementError, type StreamManagementCondition } from './errors.js';
import type { StreamManagementState, StreamManagementStore } from './stores.js';

export const NS_SM = 'urn:xmpp:sm:3';
export const NS_DELAY = 'urn:xmpp:delay';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const STANZAS = new Set(['iq', 'message', 'presence']);

/** `(a - b) mod 2^32`: the number of stanzas between two counter values, across a wrap. */
export function delta(a: number, b: number): number {
  return (a - b) >>> 0;
}

export interface StreamManagementOptions {
  /** negotiate stream management when the server offers it (default true) */
  enabled?: boolean;
  /** ask for a resumable session (default true); false keeps acks without resumption */
  resume?: boolean;
  /** our preferred maximum resumption time in seconds (`<enable max>`) */
  preferredMaximum?: number;
  /** where resumable state is kept between processes or page reloads */
  store?: StreamManagementStore;
  /**
   * What happens to stanzas still unacknowledged when resumption fails (after the server's `h` is applied):
   * `none` (default) reports each with `fail`; `messages` re-sends messages on the new session with a
   * XEP-0203 `<delay/>` and without the stale `from`, and reports IQs and presence with `fail`.
   */
  resend?: 'none' | 'messages';
  /**
   * What to do when the server acknowledges more stanzas than were sent: `error` (default, XEP-0198 section 6:
   * `undefined-condition` stream error with `<handled-count-too-high/>`) or `resync` (treat everything as
   * acknowledged, take the server's count, emit `warning`).
   */
  handledCountTooHigh?: 'error' | 'resync';
  /** request an ack after this many unacknowledged stanzas (default 10) */
  requestAckAfter?: number;
  /** otherwise request an ack this many ms after the last stanza of a burst (default 250) */
  requestAckDebounce?: number;
  /** probe the link with `<r/>` after this many ms without receiving anything (default 30 000) */
  requestAckInterval?: number;
  /** declare the link dead when an `<r/>` gets no `<a/>` within this many ms (default 20 000) */
  timeout?: number;
  /**
   * most stanzas kept unacknowledged (default 1000). When it is full, `send()` waits for acks while the
   * link is up (backpressure, in order), and rejects with `queue-full` while it is down.
   */
  maxQueue?: number;
  /** coalesce store writes: write at most once per this many ms (default 50) */
  saveDelay?: number;
}

export interface EnabledInfo {
  id: string | null;
  resume: boolean;
  max: number | null;
  location: string | null;
}

export interface StreamManagementEvents {
  /** stream management was enabled on a new session */
  enabled: [info: EnabledInfo];
  /** the server acknowledged this stanza */
  ack: [stanza: Element];
  /** this stanza will never be acknowledged */
  fail: [stanza: Element, error: StreamManagementError];
  /** the session was resumed; every unacknowledged stanza has been re-sent */
  resumed: [];
  /** the stanza was sent (or was in flight) while the link was down; it is kept for resumption */
  hibernated: [stanza: Element];
  /** the stanza is being re-sent, after a resumption or (with `resend: 'messages'`) on a new session */
  retry: [stanza: Element];
  /** resumption failed; what happens to the unacknowledged stanzas follows the `resend` policy */
  resumeFailed: [error: StreamManagementError];
  /** something odd that did not stop the session (a resync, a store error) */
  warning: [error: Error];
}

interface Settle {
  resolve: () => void;
  reject: (error: StreamManagementError) => void;
}

interface Entry {
  stanza: Element;
  /** when it was first sent (ms since the epoch) */
  stamp: number;
  /** written on the current or the previous stream (counts toward the server's h) */
  sent: boolean;
  /** `hibernated` already emitted for the current outage */
  hibernated: boolean;
  settle: Settle | undefined;
  xml: string | undefined;
}

type State = 'off' | 'enabling' | 'enabled' | 'hibernating' | 'resuming';

/**
 * Stream Management (XEP-0198) for a client: counts, acks, resumption, persistence.
 * Every stanza sent while it is on ends with exactly one `ack` or one `fail`.
 */
export class StreamManagement extends EventEmitter<StreamManagementEvents> {
  /** request an ack after this many unacknowledged stanzas */
  requestAckAfter: number;
  /** request an ack this many ms after the last stanza of a burst */
  requestAckDebounce: number;
  /** probe with `<r/>` after this many ms of silence */
  requestAckInterval: number;
  /** ms an `<r/>` may wait for its `<a/>` before the link is declared dead */
  timeout: number;
  /** the largest unacknowledged queue */
  maxQueue: number;
  /** our preferred maximum resumption time in seconds */
  preferredMaximum: number | null;

  /** the SM-ID of the current (or hibernated) session, null when there is none */
  id: string | null = null;
  /** stanzas received and handled on this session (our `h`), modulo 2^32 */
  inbound = 0;
  /** the last `h` the server acknowledged */
  acked = 0;
  /** `<enabled max>`: the server's maximum resumption time in seconds */
  max: number | null = null;
  /** `<enabled location>`: where the server prefers us to reconnect */
  location: string | null = null;

  private state: State = 'off';
  private resumable = false;
  private counting = false;
  private readonly queue: Entry[] = [];
  /** number of entries at the head of the queue that were written (they count toward the server's h) */
  private inFlight = 0;
  private readonly pending = new WeakMap<Element, Settle>();
  private sinceRequest = 0;
  private debounceTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** when the oldest `<r/>` still without an `<a/>` went out (0: none is waiting) */
  private unansweredSince = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private lastInput = 0;
  private lastSend = 0;
  private storeChain: Promise<void> = Promise.resolve();
  /** a failed resumption is being replaced by a new session (bind, then enable) */
  private rebinding = false;
  private held: Array<{ el: Element; original: Element; resolve: (written: boolean) => void; reject: (err: Error) => void }> = [];
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private streamClosed = false;
  private dropOnDisconnect: StreamManagementCondition | null = null;
  private toResend: Entry[] = [];
  private waiter: { names: string[]; resolve: (el: Element) => void } | null = null;
  private jidString: string | null = null;
  /** writes waiting for room in a full queue while the link is up (backpressure), in order */
  private spaceWaiters: Settle[] = [];
  /** waiters let through whose entries are not in the queue yet */
  private releasing = 0;
  private readonly defaultWrite: Client['writeElement'];

  constructor(
    private readonly entity: Client,
    streamFeatures: StreamFeatures,
    private readonly options: StreamManagementOptions = {},
  ) {
    super();
    this.requestAckAfter = options.requestAckAfter ?? 10;
    this.requestAckDebounce = options.requestAckDebounce ?? 250;
    this.requestAckInterval = options.requestAckInterval ?? 30_000;
    this.timeout = options.timeout ?? 20_000;
    this.maxQueue = options.maxQueue ?? 1000;
    this.preferredMaximum = options.preferredMaximum ?? null;

    this.defaultWrite = entity.writeElement;
    if (options.enabled === false) return;

    // Count before any handler can see (and maybe consume) the element.
    entity.prependListener('element', (el) => this.onElement(el));
    entity.writeElement = (el, original) => this.write(el, original);
    entity.closeHooks.push(() => this.onClosing());
    entity.startHooks.push(async () => {
      await this.restore();
    });
    entity.on('close', () => {
      this.streamClosed = true;
    });
    entity.on('disconnect', () => this.onDisconnect());
    entity.stopHooks.push(() => this.onStopped());

    streamFeatures.use('sm', NS_SM, (_ctx, next) => this.resumeFeature(next), 500);
    // A new session without stream management: what was held waits no longer.
    entity.on('status', (status) => {
      if (status !== 'online' || !this.rebinding) return;
      this.rebinding = false;
      this.failResends('not-enabled');
      this.releaseHeld();
    });
    // Binding while a session still waits for resumption means it cannot be resumed here (no <sm/> offered).
    streamFeatures.use('bind', NS_BIND, (_ctx, next) => {
      if (this.state === 'hibernating') this.resumeImpossible('the server does not offer stream management on this stream');
      return next();
    }, 450);
    streamFeatures.use('sm', NS_SM, (_ctx, next) => this.enableFeature(next), 50);
  }

  /** True while stream management is active on the current stream. */
  get enabled(): boolean {
    return this.state === 'enabled';
  }

  /** True when the current or last session can be resumed. */
  get canResume(): boolean {
    return this.resumable && this.id !== null;
  }

  /** Stanzas sent on this session (acknowledged or not), modulo 2^32. */
  get outbound(): number {
    return (this.acked + this.inFlight) >>> 0;
  }

  /** Stanzas not yet acknowledged, oldest first. */
  get unacknowledged(): readonly Element[] {
    return this.queue.map((e) => e.stanza);
  }

  /** The service to reconnect to first: the server's `location`, mapped onto the service URL. */
  preferredService(service: string | null): string | null {
    if (!this.canResume || !this.location || !service) return null;
    return seeOtherHost(service, this.location);
  }

  /**
   * Send a stanza and resolve when the server acknowledges it; reject with StreamManagementError when it
   * definitely will not be (`not-enabled`, `resume-failed`, `not-resumable`, `stopped`, `stream-error`, `queue-full`, `dropped`).
   */
  sendAcked(stanza: Element): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.options.enabled === false) {
        reject(new StreamManagementError('not-enabled', { text: 'stream management is turned off' }));
        return;
      }
      const settle: Settle = { resolve, reject };
      this.pending.set(stanza, settle);
      this.entity.send(stanza).then(
        () => {
          if (this.pending.get(stanza) !== settle) return;
          this.pending.delete(stanza);
          reject(
            this.entity.status === 'online' || this.entity.status === 'open'
              ? new StreamManagementError(this.state === 'off' ? 'not-enabled' : 'dropped', { text: this.state === 'off' ? 'stream management is not enabled on this session' : 'an outgoing filter dropped the stanza' })
              : new StreamManagementError('not-enabled', { text: 'stream management is not enabled' }),
          );
        },
        (err: unknown) => {
          if (this.pending.get(stanza) !== settle) return;
          this.pending.delete(stanza);
          reject(err instanceof StreamManagementError ? err : new StreamManagementError('not-enabled', { text: err instanceof Error ? err.message : String(err), cause: err }));
        },
      );
    });
  }

  /** Ask the server for an ack now (does not extend a pending deadline). */
  requestAck(): void {
    this.sinceRequest = 0;
    if (this.state !== 'enabled' && this.state !== 'enabling') return;
    this.sendNonza(xml('r', NS_SM));
    if (this.unansweredSince === 0) this.unansweredSince = Date.now();
    if (this.deadlineTimer === undefined) this.armDeadline(this.timeout);
  }

  /**
   * One timer watches the oldest unanswered `<r/>`: an `<a/>` only clears `unansweredSince`, and the
   * timer, when it fires, re-arms for what is left or stops. No timer churn per request under load.
   */
  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.unansweredSince === 0) return;
      const left = this.unansweredSince + this.timeout - Date.now();
      if (left > 0) this.armDeadline(left);
      else this.onDeadline();
    }, ms);
  }

  /** The state read afresh (after an await). */
  private stateNow(): State {
    return this.state;
  }

  // ---- outgoing ----

  private async write(el: Element, original: Element): Promise<boolean> {
    if (this.rebinding && STANZAS.has(el.name) && !isBindingIq(el)) {
      // Between a failed resumption and the new session: nothing may precede <bind/> (RFC 6120 7.1),
      // and messages re-sent from the old session go first.
      return new Promise<boolean>((resolve, reject) => this.held.push({ el, original, resolve, reject }));
    }
    if (!STANZAS.has(el.name) || this.state === 'off') return this.defaultWrite(el, original);
    if (this.queue.length >= this.maxQueue || this.spaceWaiters.length > 0 || this.releasing > 0) {
      if (this.unansweredSince === 0) this.requestAck(); // unless an <r/> is already waiting for its <a/>
      // While the link is up, acks are on their way: wait for room, in order. While it is down, nobody knows when.
      if (this.state !== 'enabled' && this.spaceWaiters.length === 0 && this.releasing === 0) {
        throw new StreamManagementError('queue-full', { text: `${this.queue.length} stanzas are waiting for an acknowledgement` });
      }
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
      this.releasing--;
      if (this.stateNow() === 'off' || this.rebinding) {
        // The session changed while this write waited: start over (held while rebinding, else untracked).
        if (this.releasing === 0) this.releaseSpace();
        return this.write(el, original);
      }
    }
    const settle = this.pending.get(original);
    if (settle) this.pending.delete(original);
    const entry: Entry = { stanza: el, stamp: Date.now(), sent: false, hibernated: false, settle, xml: undefined };
    this.queue.push(entry);
    if (this.releasing === 0 && this.spaceWaiters.length > 0) this.releaseSpace();
    this.markDirty();
    const transport = this.entity.transport;
    if (this.state === 'hibernating' || this.state === 'resuming' || !transport) {
      entry.hibernated = true;
      this.notify('hibernated', el);
      return false;
    }
    entry.sent = true;
    this.inFlight++;
    try {
      await transport.send(el);
    } catch {
      // The link died under us; the session (if resumable) keeps the stanza for the resumption.
      return false;
    }
    this.scheduleAckRequest();
    return true;
  }

  /** Let waiting writes through, oldest first, as far as the queue has room. */
  private releaseSpace(): void {
    while (this.spaceWaiters.length > 0 && this.queue.length + this.releasing < this.maxQueue) {
      this.releasing++;
      this.spaceWaiters.shift()?.resolve();
    }
  }

  /** The session is over: writes waiting for room get its error (they were never queued). */
  private rejectSpaceWaiters(error: StreamManagementError): void {
    for (const waiter of this.spaceWaiters.splice(0)) waiter.reject(error);
  }

  private scheduleAckRequest(): void {
    // Writes waiting for room need an ack to move: ask at once unless an <r/> is already out.
    if (++this.sinceRequest >= this.requestAckAfter || (this.spaceWaiters.length > 0 && this.unansweredSince === 0)) {
      this.requestAck();
      return;
    }
    // Debounce without re-arming a timer per stanza: the timer checks how long ago the last stanza went out,
    // and stops when an <r/> has gone out since (requestAckAfter reached) with nothing sent after it.
    this.lastSend = Date.now();
    if (this.debounceTimer === undefined) {
      const fire = (): void => {
        if (this.sinceRequest === 0) {
          this.debounceTimer = undefined;
          return;
        }
        const quiet = Date.now() - this.lastSend;
        if (quiet < this.requestAckDebounce) {
          this.debounceTimer = setTimeout(fire, this.requestAckDebounce - quiet);
          return;
        }
        this.debounceTimer = undefined;
        this.requestAck();
      };
      this.debounceTimer = setTimeout(fire, this.requestAckDebounce);
    }
  }

  private sendNonza(el: Element): void {
    const transport = this.entity.transport;
    // Nothing may follow our closing tag (RFC 6120 section 4.4); the final <a/> went out before it.
    if (!transport || ['closing', 'close', 'disconnecting', 'disconnect'].includes(this.entity.status)) return;
    transport.send(el).then(
      () => this.entity.emitSent(el),
      () => undefined,
    );
  }

  // ---- incoming ----

  private onElement(el: Element): void {
    this.lastInput = Date.now();
    if (this.counting && STANZAS.has(el.name)) {
      this.inbound = (this.inbound + 1) >>> 0;
      this.markDirty();
      return;
    }
    if (el.attrs.xmlns !== NS_SM) return;
    switch (el.name) {
      case 'r':
        if (this.counting) this.sendNonza(xml('a', { xmlns: NS_SM, h: this.inbound }));
        return;
      case 'a':
        if (this.state === 'enabled' || this.state === 'enabling') this.onAck(el.attrs.h);
        return;
      case 'enabled':
        if (this.state === 'enabling') this.onEnabled(el);
        break;
      case 'resumed':
        if (this.state === 'resuming') this.onResumed(el);
        break;
      case 'failed':
        if (this.state === 'resuming') this.onResumeFailed(el);
        else if (this.state === 'enabling') this.onEnableFailed(el);
        break;
      default:
        return;
    }
    const waiter = this.waiter;
    if (waiter && waiter.names.includes(el.name)) {
      this.waiter = null;
      waiter.resolve(el);
    }
  }

  /** Process an `h` from `<a/>`, `<resumed/>` or `<failed/>`. Returns false when it was too high. */
  private onAck(value: string | undefined, lenient = false): boolean {
    const h = Number(value);
    if (value === undefined || !Number.isInteger(h) || h < 0 || h > 0xffffffff) {
      this.emit('warning', new Error(`ignored an <a/> with an invalid h="${String(value).slice(0, 20)}"`));
      return true;
    }
    this.unansweredSince = 0;
    let count = delta(h, this.acked);
    if (count > this.inFlight) {
      if (!lenient && this.options.handledCountTooHigh !== 'resync') {
        this.handledCountTooHigh(h);
        return false;
      }
      this.emit('warning', new StreamManagementError('handled-count-too-high', { text: `the server acknowledged ${count} stanzas, but only ${this.inFlight} were waiting; counters resynchronised` }));
      count = this.inFlight;
    }
    // Settle the ledger first, then tell listeners (a throwing listener cannot leave it half done).
    this.acked = h;
    const done = this.queue.splice(0, count);
    this.inFlight -= count;
    if (count > 0) {
      this.markDirty();
      this.releaseSpace();
    }
    for (const entry of done) {
      entry.settle?.resolve();
      this.notify('ack', entry.stanza);
    }
    return true;
  }

  private handledCountTooHigh(h: number): void {
    const error = xml(
      'stream:error',
      { 'xmlns:stream': 'http://etherx.jabber.org/streams' },
      xml('undefined-condition', 'urn:ietf:params:xml:ns:xmpp-streams'),
      xml('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': this.outbound }),
    );
    this.dropOnDisconnect = 'handled-count-too-high';
    this.resumable = false;
    const transport = this.entity.transport;
    if (transport) {
      void transport
        .send(error)
        .then(() => {
          this.entity.emitSent(error);
          return transport.closeStream();
        })
        .catch(() => undefined)
        .finally(() => void this.entity.disconnect());
    }
  }

  private onDeadline(): void {
    this.unansweredSince = 0;
    const transport = this.entity.transport;
    if (!transport) return;
    // Tear the socket down without closing the stream, so the session stays resumable.
    this.emit('warning', new TimeoutError(`no acknowledgement within ${this.timeout} ms: the link is dead, dropping it (the session stays resumable)`));
    transport.destroy(new Error(`no acknowledgement within ${this.timeout} ms`));
  }

  private armIdleProbe(): void {
    clearTimeout(this.idleTimer);
    const check = (): void => {
      if (this.state !== 'enabled') return;
      const idle = Date.now() - this.lastInput;
      if (idle >= this.requestAckInterval) {
        this.requestAck();
        this.idleTimer = setTimeout(check, this.requestAckInterval);
      } else this.idleTimer = setTimeout(check, this.requestAckInterval - idle);
    };
    this.idleTimer = setTimeout(check, this.requestAckInterval);
  }

  // ---- negotiation ----

  private expect(names: string[]): Promise<Element> {
    const signal = this.entity.signal;
    return new Promise<Element>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = null;
        reject(signal.reason instanceof Error ? signal.reason : new Error('disconnected'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        names,
        resolve: (el) => {
          signal.removeEventListener('abort', onAbort);
          resolve(el);
        },
      };
    });
  }

  private async resumeFeature(next: () => Promise<unknown>): Promise<unknown> {
    if (!this.canResume || this.state !== 'hibernating') return next();
    this.state = 'resuming';
    const answer = this.expect(['resumed', 'failed']);
    answer.catch(() => undefined);
    this.sendNonza(xml('resume', { xmlns: NS_SM, h: this.inbound, previd: this.id }));
    let el: Element;
    try {
      el = await answer;
    } catch {
      return undefined; // disconnected while resuming: still hibernating, reconnect tries again
    }
    if (el.name === 'failed') return next();
    if (this.dropOnDisconnect) return undefined; // the <resumed h/> was refused (handled-count-too-high)
    await this.resend();
    if (this.stateNow() !== 'enabled') return undefined;
    this.entity.setResumed(this.entity.jid ?? parseJid(this.jidString as string));
    this.emit('resumed');
    this.requestAck();
    return undefined;
  }

  private onResumed(el: Element): void {
    if (el.attrs.previd !== undefined && el.attrs.previd !== this.id) {
      this.emit('warning', new StreamManagementError('resume-failed', { text: `<resumed previd="${el.attrs.previd}"/> does not match ${this.id}` }));
    }
    this.counting = true;
    this.state = 'resuming';
    this.streamClosed = false;
    if (!this.onAck(el.attrs.h)) return;
    // Everything still queued goes out again, in order, before anything new.
    for (const entry of this.queue) entry.sent = false;
    this.inFlight = 0;
    if (this.jidString) this.entity.jid = parseJid(this.jidString);
  }

  private async resend(): Promise<void> {
    const transport = this.entity.transport;
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i] as Entry;
      if (entry.sent) continue;
      if (!transport || this.entity.transport !== transport) return;
      entry.sent = true;
      this.inFlight++;
      this.notify('retry', entry.stanza);
      try {
        await transport.send(entry.stanza);
        this.entity.emitSent(entry.stanza);
      } catch {
        return;
      }
    }
    for (const entry of this.queue) entry.hibernated = false;
    this.state = 'enabled';
    this.armIdleProbe();
    this.markDirty();
  }

  private onResumeFailed(el: Element): void {
    this.resumeImpossible(failedCondition(el), el);
  }

  /** The hibernated session is gone: report or re-send what is left, per the `resend` policy. */
  private resumeImpossible(text: string, element?: Element): void {
    const error = new StreamManagementError('resume-failed', element ? { text, element } : { text });
    // Writes waiting for room were never queued: they fail before the `h` of a <failed/> frees room,
    // which would otherwise let them onto the new stream ahead of <bind/>.
    this.rejectSpaceWaiters(error);
    if (element?.attrs.h !== undefined) this.onAck(element.attrs.h, true);
    const remaining = this.queue.splice(0);
    this.resetSession();
    this.clearStore();
    this.rebinding = true;
    this.emit('resumeFailed', error);
    for (const entry of remaining) {
      if (this.options.resend === 'messages' && entry.stanza.name === 'message') this.toResend.push(entry);
      else this.failEntry(entry, error);
    }
  }

  private async enableFeature(next: () => Promise<unknown>): Promise<unknown> {
    if (this.state !== 'off') return next();
    this.state = 'enabling';
    this.acked = 0;
    this.inFlight = 0;
    this.streamClosed = false;
    const answer = this.expect(['enabled', 'failed']);
    answer.catch(() => undefined);
    const resume = this.options.resume !== false;
    this.sendNonza(xml('enable', { xmlns: NS_SM, resume: resume ? 'true' : undefined, max: resume ? (this.preferredMaximum ?? undefined) : undefined }));
    try {
      await answer;
    } catch {
      return undefined;
    }
    this.rebinding = false;
    if (this.stateNow() === 'enabled') {
      this.emit('enabled', { id: this.id, resume: this.resumable, max: this.max, location: this.location });
      this.armIdleProbe();
      this.resendFromFailedSession();
      this.markDirty();
    } else this.failResends('not-enabled');
    this.releaseHeld();
    return next();
  }

  private onEnabled(el: Element): void {
    const resume = el.attrs.resume === 'true' || el.attrs.resume === '1';
    this.state = 'enabled';
    this.counting = true;
    this.inbound = 0;
    this.id = el.attrs.id ?? null;
    this.resumable = resume && this.id !== null && this.options.resume !== false;
    const max = Number(el.attrs.max);
    this.max = el.attrs.max !== undefined && Number.isFinite(max) ? max : null;
    this.location = el.attrs.location ?? null;
    this.jidString = this.entity.jid?.toString() ?? null;
  }

  private onEnableFailed(el: Element): void {
    // The stream stays up without stream management; stanzas sent since <enable/> were delivered normally.
    const error = new StreamManagementError('not-enabled', { text: `the server refused stream management (${failedCondition(el)})`, element: el });
    const tracked = this.queue.splice(0);
    this.resetSession();
    this.rejectSpaceWaiters(error);
    for (const entry of tracked) this.failEntry(entry, error);
  }

  private resendFromFailedSession(): void {
    const entries = this.toResend.splice(0);
    for (const entry of entries) {
      const stanza = entry.stanza;
      // A new session has a new full JID: the old `from` would be refused as invalid-from.
      delete stanza.attrs.from;
      if (!stanza.getChild('delay', NS_DELAY)) stanza.appendChild(xml('delay', { xmlns: NS_DELAY, stamp: new Date(entry.stamp).toISOString() }));
      this.notify('retry', stanza);
      if (entry.settle) this.pending.set(stanza, entry.settle);
      this.entity.send(stanza).catch((err: unknown) => {
        const settle = this.pending.get(stanza);
        if (settle) this.pending.delete(stanza);
        const error = new StreamManagementError('resume-failed', { text: 'could not re-send on the new session', cause: err });
        settle?.reject(error);
        this.emit('fail', stanza, error);
      });
    }
  }

  /** Send what was held while the new session was being set up, in order, tracked when stream management is on. */
  private releaseHeld(): void {
    const held = this.held.splice(0);
    for (const item of held) this.write(item.el, item.original).then(item.resolve, item.reject);
  }

  private failResends(condition: StreamManagementCondition): void {
    const error = new StreamManagementError(condition, { text: 'the new session has no stream management, so the message cannot be re-sent with confirmation' });
    for (const entry of this.toResend.splice(0)) this.failEntry(entry, error);
  }

  // ---- lifecycle ----

  private async onClosing(): Promise<void> {
    // A final <a/> tells the server what we handled, so it does not redeliver it (section 4).
    const transport = this.entity.transport;
    if (this.counting && transport) {
      const a = xml('a', { xmlns: NS_SM, h: this.inbound });
      await transport.send(a);
      this.entity.emitSent(a);
    }
  }

  private onDisconnect(): void {
    this.clearTimers();
    this.waiter = null;
    if (this.rebinding) {
      this.rebinding = false;
      const error = new StreamManagementError('not-resumable', { text: 'the link dropped before the new session was ready' });
      for (const item of this.held.splice(0)) item.reject(error);
    }
    if (this.state === 'off' && this.queue.length === 0 && this.toResend.length === 0 && this.spaceWaiters.length === 0) return;
    let condition: StreamManagementCondition | null = this.dropOnDisconnect;
    if (!condition && this.entity.stopping) condition = 'stopped';
    // A stream error or a clean close ends the session only on the stream the session lives on; a
    // reconnection attempt that fails (a redirect, a timeout, a refused login) leaves it hibernating.
    const established = this.state === 'enabled' || this.state === 'enabling';
    if (!condition && established && this.entity.lastStreamError) condition = 'stream-error';
    if (!condition && established && this.streamClosed) condition = 'stopped';
    if (!condition && !this.canResume) condition = 'not-resumable';
    this.streamClosed = false;
    if (condition) {
      this.dropSession(condition);
      return;
    }
    this.state = 'hibernating';
    this.counting = false;
    for (const entry of this.queue) {
      if (entry.hibernated) continue;
      entry.hibernated = true;
      this.notify('hibernated', entry.stanza);
    }
    this.flush();
  }

  /** stop() ends the session; a start() that failed (say, no network after a reload) keeps it for the next start(). */
  private onStopped(): void {
    if (this.queue.length > 0 || this.toResend.length > 0 || this.spaceWaiters.length > 0 || this.canResume) this.dropSession('stopped');
  }

  /** End the session for good: report every unacknowledged stanza, forget the state. */
  private dropSession(condition: StreamManagementCondition): void {
    const texts: Record<StreamManagementCondition, string> = {
      stopped: 'the session ended before the server acknowledged the stanza',
      'stream-error': `the server ended the session with a stream error${this.entity.lastStreamError ? ` (${this.entity.lastStreamError.condition})` : ''}`,
      'not-resumable': 'the link dropped and the session cannot be resumed',
      'handled-count-too-high': 'the server acknowledged more stanzas than were sent',
      'not-enabled': 'stream management is not enabled',
      'resume-failed': 'the session could not be resumed',
      'queue-full': 'too many unacknowledged stanzas',
      dropped: 'dropped',
    };
    const error = new StreamManagementError(condition, { text: texts[condition] });
    this.rejectSpaceWaiters(error);
    const entries = [...this.queue.splice(0), ...this.toResend.splice(0)];
    this.resetSession();
    this.clearStore();
    for (const entry of entries) this.failEntry(entry, error);
  }

  private resetSession(): void {
    this.clearTimers();
    this.state = 'off';
    this.counting = false;
    this.resumable = false;
    this.id = null;
    this.inbound = 0;
    this.acked = 0;
    this.inFlight = 0;
    this.max = null;
    this.location = null;
    this.jidString = null;
    this.dropOnDisconnect = null;
    this.streamClosed = false;
  }

  private failEntry(entry: Entry, error: StreamManagementError): void {
    entry.settle?.reject(error);
    this.notify('fail', entry.stanza, error);
  }

  /** Emit to the application; a throwing listener is reported as the client's `error`, never breaks the bookkeeping. */
  private notify<K extends 'ack' | 'fail' | 'hibernated' | 'retry'>(event: K, ...args: StreamManagementEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: StreamManagementEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.entity.emitError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private clearTimers(): void {
    clearTimeout(this.debounceTimer);
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.idleTimer);
    this.debounceTimer = this.deadlineTimer = this.idleTimer = undefined;
    this.sinceRequest = 0;
    this.unansweredSince = 0;
  }

  // ---- persistence ----

  /** The resumable state as plain JSON data, or null when there is no resumable session. */
  snapshot(): StreamManagementState | null {
    if (!this.canResume || !this.jidString || this.id === null) return null;
    return {
      version: 1,
      id: this.id,
      jid: this.jidString,
      service: this.entity.service,
      location: this.location,
      max: this.max,
      inbound: this.inbound,
      acked: this.acked,
      unacked: this.queue.map((e) => ({ xml: (e.xml ??= e.stanza.toString()), stamp: e.stamp })),
      savedAt: Date.now(),
    };
  }

  private markDirty(): void {
    if (!this.options.store || this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => this.flush(), this.options.saveDelay ?? 50);
  }

  /** Write the state to the store now. */
  flush(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const store = this.options.store;
    if (!store) return;
    const state = this.snapshot();
    if (!state) return;
    this.storeOp(() => store.save(state));
  }

  /** Store operations run one after the other, so a clear() always lands after an earlier save(). */
  private storeOp(op: () => void | Promise<void>): void {
    this.storeChain = this.storeChain
      .then(op)
      .catch((err: unknown) => void this.emit('warning', err instanceof Error ? err : new Error(String(err))));
  }

  private clearStore(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const store = this.options.store;
    if (!store) return;
    this.storeOp(() => store.clear());
  }

  /** Load a resumable session from the store (runs at start()). */
  async restore(): Promise<boolean> {
    const store = this.options.store;
    if (!store || this.canResume) return false;
    let state: StreamManagementState | null | undefined;
    try {
      await this.storeChain;
      state = await store.load();
    } catch (err) {
      this.emit('warning', err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (!state) return false;
    const username = this.entity.username;
    const expected = username ? `${username}@${this.entity.options.domain}`.toLowerCase() : null;
    let restoredJid;
    try {
      restoredJid = parseJid(state.jid);
    } catch {
      restoredJid = null;
    }
    if (!restoredJid || (expected !== null && restoredJid.bare().toString() !== expected)) {
      this.emit('warning', new Error(`ignored stored stream management state of ${state.jid}: not this account`));
      return false;
    }
    const entries: Entry[] = [];
    for (const item of state.unacked) {
      try {
        entries.push({ stanza: parse(item.xml), stamp: item.stamp, sent: true, hibernated: true, settle: undefined, xml: item.xml });
      } catch {
        this.emit('warning', new Error('skipped an unreadable stored stanza'));
      }
    }
    this.id = state.id;
    this.jidString = state.jid;
    this.entity.jid = restoredJid;
    this.inbound = state.inbound >>> 0;
    this.acked = state.acked >>> 0;
    this.max = state.max;
    this.location = state.location;
    this.queue.push(...entries);
    this.inFlight = entries.length;
    this.resumable = true;
    this.state = 'hibernating';
    return true;
  }
}

const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

/** The IQs that set a session up (resource binding, legacy session) and must pass while stanzas are held. */
function isBindingIq(el: Element): boolean {
  return el.name === 'iq' && (el.getChild('bind', NS_BIND) !== undefined || el.getChild('session', NS_SESSION) !== undefined);
}

function failedCondition(el: Element): string {
  const child = el.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS || c.attrs.xmlns === undefined);
  return child?.name ?? 'undefined-condition';
}
