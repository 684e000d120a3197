import type { Client } from '@xmppkit/client-core';
import { NS_STREAM_ERRORS, NS_STREAMS, seeOtherHost } from '@xmppkit/connection';
import { TimeoutError, toError } from '@xmppkit/error';
import { EventEmitter } from '@xmppkit/events';
import { jid as parseJid, type JID } from '@xmppkit/jid';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { parse, xml, type Element } from '@xmppkit/xml';
import { StreamManagementError, type StreamManagementCondition } from './errors.js';
import type { StreamManagementState, StreamManagementStore } from './stores.js';

export const NS_SM = 'urn:xmpp:sm:3';
export const NS_DELAY = 'urn:xmpp:delay';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const STANZAS = new Set(['iq', 'message', 'presence']);

// The session's state. Incoming stanzas are counted while ENABLED. ENABLING and ENABLED are "established"
// (acks flow on this stream); `> ENABLED` is "the link is down or being resumed": stanzas are kept, not written.
const OFF = 0;
const ENABLING = 1;
const ENABLED = 2;
const RESUMING = 3;
const HIBERNATING = 4;

// Timers (indexes into `#timers`): see `#arm()` and `#markDirty()`.
const DEBOUNCE = 0;
const DEADLINE = 1;
const IDLE = 2;
/** coalesced store writes (cleared with the others: a session that ends or hibernates has saved or cleared its state) */
const SAVE = 3;

/** `(a - b) mod 2^32`: the number of stanzas between two counter values, across a wrap. */
export function delta(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** `cause` and `element` are left out when undefined (as XMPPError does). */
const smError = (condition: StreamManagementCondition, text?: string, element?: Element, cause?: unknown): StreamManagementError =>
  new StreamManagementError(condition, { text, element, cause });

/** The texts of the conditions that end a session at a disconnect (a stream error's text is the server's condition). */
const DROPPED: Partial<Record<StreamManagementCondition, string>> = {
  stopped: 'the session ended before the server acknowledged the stanza',
  'not-resumable': 'the link dropped and the session cannot be resumed',
};

/** The tunable settings and their defaults. */
const DEFAULTS = { requestAckAfter: 10, requestAckDebounce: 250, requestAckInterval: 30_000, timeout: 20_000, maxQueue: 1000, preferredMaximum: null };

const noop = (): void => undefined;

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

/**
 * One unacknowledged stanza. The first `#inFlight` entries of the queue were written (they count toward
 * the server's h); the rest were kept while the link was down, to be written at the resumption.
 */
interface Entry {
  el: Element;
  /** when it was first sent (ms since the epoch) */
  stamp: number;
  settle: Settle | undefined;
  /** the serialised stanza, once a snapshot needed it */
  xml: string | undefined;
}

/** A write waiting for the new session (while rebinding) or for room in a full queue: `[el, original, resolve, reject]`. */
type Waiting = [Element, Element, (written: boolean) => void, (err: Error) => void];

/**
 * Stream Management (XEP-0198) for a client: counts, acks, resumption, persistence.
 * Every stanza sent while it is on ends with exactly one `ack` or one `fail`.
 */
export class StreamManagement extends EventEmitter<StreamManagementEvents> {
  /** request an ack after this many unacknowledged stanzas */
  declare requestAckAfter: number;
  /** request an ack this many ms after the last stanza of a burst */
  declare requestAckDebounce: number;
  /** probe with `<r/>` after this many ms of silence */
  declare requestAckInterval: number;
  /** ms an `<r/>` may wait for its `<a/>` before the link is declared dead */
  declare timeout: number;
  /** the largest unacknowledged queue */
  declare maxQueue: number;
  /** our preferred maximum resumption time in seconds */
  declare preferredMaximum: number | null;

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

  #entity: Client;
  #options: StreamManagementOptions;
  #defaultWrite: Client['writeElement'];
  /** OFF, ENABLING, ENABLED, RESUMING or HIBERNATING */
  #state = OFF;
  #resumable = false;
  #queue: Entry[] = [];
  /** number of entries at the head of the queue that were written (they count toward the server's h) */
  #inFlight = 0;
  #pending = new WeakMap<Element, Settle | undefined>();
  #sinceRequest = 0;
  /** the debounce, deadline, idle-probe and save timers */
  #timers: Array<ReturnType<typeof setTimeout> | undefined> = [];
  /** when the oldest `<r/>` still without an `<a/>` went out (0: none is waiting) */
  #unansweredSince = 0;
  #lastInput = 0;
  #lastSend = 0;
  #storeChain: Promise<void> = Promise.resolve();
  /** a failed resumption is being replaced by a new session (bind, then enable) */
  #rebinding = false;
  /** writes held until the new session is ready, or waiting for room in a full queue, in order */
  #waiting: Waiting[] = [];
  /** the condition that ends the session at the next disconnect (a clean close, a too-high h) */
  #drop: StreamManagementCondition | null = null;
  #toResend: Entry[] = [];
  /** resolves the pending `#ask()` with the server's answer (undefined: the link went away) */
  #answer: ((el: Element | undefined) => void) | undefined;
  /** the full JID the session is bound to */
  #jid: JID | null = null;

  constructor(entity: Client, streamFeatures: StreamFeatures, options: StreamManagementOptions = {}) {
    super();
    this.#entity = entity;
    this.#options = options;
    for (const key in DEFAULTS) (this as Record<string, unknown>)[key] = options[key as keyof typeof DEFAULTS] ?? DEFAULTS[key as keyof typeof DEFAULTS];
    this.#defaultWrite = entity.writeElement;
    if (options.enabled === false) return;

    // Count before any handler can see (and maybe consume) the element.
    entity.prependListener('element', (el) => this.#onElement(el));
    entity.writeElement = (el, original) => this.#write(el, original);
    // onClosing: a final <a/> tells the server what we handled, so it does not redeliver it (section 4).
    entity.closeHooks.push(async () => {
      if (this.#state === ENABLED) await this.#send('a', { h: this.inbound }, true);
    });
    entity.startHooks.push(() => this.restore() as Promise<unknown> as Promise<void>);
    // A stream error or a clean close ends the session only on the stream the session lives on; a
    // reconnection attempt that fails (a redirect, a timeout, a refused login) leaves it hibernating.
    entity.on('close', () => {
      if (this.#established) this.#drop ??= 'stopped';
    });
    // onDisconnect, and onStopped: stop() ends the session (even one hibernating while offline); a start()
    // that failed (say, no network after a reload) keeps it for the next start().
    const onDisconnect = (): void => {
      this.#clearTimers();
      this.#answer?.(undefined);
      // A new session being set up after a failed resumption is gone too: what was held for it fails below.
      this.#rebinding = false;
      const state = this.#state;
      // nothing to end or keep
      if (!state && !(this.#queue.length + this.#toResend.length + this.#waiting.length)) return;
      // In this order: our own too-high-h stream error, stop(), the server's stream error, a clean close.
      const drop = this.#drop;
      const condition =
        drop === 'handled-count-too-high'
          ? drop
          : entity.stopping
            ? 'stopped'
            : this.#established && entity.lastStreamError
              ? 'stream-error'
              : (drop ?? (this.canResume ? null : 'not-resumable'));
      // A stream error's text is the server's condition.
      if (condition) return this.#end(smError(condition, condition === 'stream-error' ? entity.lastStreamError?.condition : DROPPED[condition]));
      this.#state = HIBERNATING;
      // What was written on this stream is now kept for the resumption (what was kept already said so).
      if (state === ENABLED) for (const entry of this.#queue.slice(0, this.#inFlight)) this.#notify('hibernated', entry.el);
      this.flush();
    };
    entity.on('disconnect', onDisconnect);
    entity.stopHooks.push(onDisconnect);

    // resumeFeature
    streamFeatures.use('sm', NS_SM, async (_ctx, next) => {
      // (only a resumable session hibernates)
      if (this.#state !== HIBERNATING) return next();
      if ((await this.#ask(RESUMING, 'resume', { h: this.inbound, previd: this.id }))?.name === 'failed') return next();
      // Not resumed: disconnected while resuming (still hibernating, reconnect tries again), or the
      // <resumed h/> was refused (handled-count-too-high). (Read afresh: TypeScript narrowed it above.)
      if ((this.#state as number) !== ENABLED) return;
      entity.setResumed(this.#jid!);
      this.emit('resumed');
      this.requestAck();
    }, 500);
    // A new session without stream management: what was held waits no longer.
    entity.on('online', () => {
      if (this.#rebinding) this.#ready();
    });
    // Binding while a session still waits for resumption means it cannot be resumed here (no <sm/> offered).
    streamFeatures.use('bind', NS_BIND, (_ctx, next) => {
      if (this.#state === HIBERNATING) this.#end(smError('resume-failed', 'stream management not offered'));
      return next();
    }, 450);
    // enableFeature
    streamFeatures.use('sm', NS_SM, async (_ctx, next) => {
      // (with no session, both counters are 0: the outgoing count starts with this <enable/>)
      if (this.#state) return next();
      if (!(await this.#ask(ENABLING, 'enable', options.resume !== false ? { resume: 'true', max: this.preferredMaximum } : {}))) return;
      this.#ready();
      return next();
    }, 50);
  }

  /** True while stream management is active on the current stream. */
  get enabled(): boolean {
    return this.#state === ENABLED;
  }

  /** True when the current or last session can be resumed. */
  get canResume(): boolean {
    return this.#resumable && this.id !== null;
  }

  /** Stanzas sent on this session (acknowledged or not), modulo 2^32. */
  get outbound(): number {
    return (this.acked + this.#inFlight) >>> 0;
  }

  /** Stanzas not yet acknowledged, oldest first. */
  get unacknowledged(): readonly Element[] {
    return this.#queue.map((e) => e.el);
  }

  /** The service to reconnect to first: the server's `location`, mapped onto the service URL. */
  preferredService(service: string | null): string | null {
    return this.canResume && this.location && service ? seeOtherHost(service, this.location) : null;
  }

  /**
   * Send a stanza and resolve when the server acknowledges it; reject with StreamManagementError when it
   * definitely will not be (`not-enabled`, `resume-failed`, `not-resumable`, `stopped`, `stream-error`, `queue-full`, `dropped`).
   */
  sendAcked(stanza: Element): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#options.enabled === false) return reject(smError('not-enabled', 'stream management is off'));
      const settle: Settle = { resolve, reject };
      const pending = this.#pending;
      pending.set(stanza, settle);
      // Settled here only when the write neither tracked the stanza nor failed it: then it is still ours.
      const untracked = (err?: unknown): void => {
        if (pending.get(stanza) !== settle) return;
        pending.delete(stanza);
        if (err instanceof StreamManagementError) return reject(err);
        // Written untracked while online or open, although stream management is on: a filter dropped it.
        const dropped = !err && /^o[np]/.test(this.#entity.status) && this.#state !== OFF;
        reject(
          smError(
            dropped ? 'dropped' : 'not-enabled',
            err ? toError(err).message : dropped ? 'dropped by an outgoing filter' : 'not active on this stream',
            undefined,
            err,
          ),
        );
      };
      this.#entity.send(stanza).then(() => untracked(), untracked);
    });
  }

  /** Ask the server for an ack now (does not extend a pending deadline). */
  requestAck(): void {
    this.#sinceRequest = 0;
    if (!this.#established) return;
    this.#send('r');
    this.#unansweredSince ||= Date.now();
    this.#timers[DEADLINE] ?? this.#arm(DEADLINE, this.timeout);
  }

  /** ENABLING or ENABLED: acks flow on this stream. */
  get #established(): boolean {
    return this.#state === ENABLING || this.#state === ENABLED;
  }

  /**
   * The three timers: DEBOUNCE requests an ack after a burst, DEADLINE watches the oldest unanswered `<r/>`,
   * IDLE probes a silent link. When one fires, it checks when its event is due and re-arms for what is
   * left, or stops when it is no longer wanted: no timer churn per stanza, per request or per input.
   */
  #arm(timer: number, ms: number): void {
    this.#timers[timer] = setTimeout(() => {
      this.#timers[timer] = undefined;
      const since = this.#unansweredSince;
      const due =
        timer === DEBOUNCE
          ? this.#sinceRequest && this.#lastSend + this.requestAckDebounce
          : timer === DEADLINE
            ? since && since + this.timeout
            : this.#state === ENABLED && this.#lastInput + this.requestAckInterval;
      if (!due) return;
      const left = due - Date.now();
      if (left > 0) this.#arm(timer, left);
      else if (timer !== DEADLINE) {
        this.requestAck();
        if (timer === IDLE) this.#arm(IDLE, this.requestAckInterval);
      } else {
        // Tear the socket down without closing the stream, so the session stays resumable.
        this.#unansweredSince = 0;
        const error = new TimeoutError(`no ack within ${this.timeout} ms`);
        this.#warn(error);
        this.#entity.transport?.destroy(error);
      }
    }, ms);
  }

  #armIdleProbe(): void {
    clearTimeout(this.#timers[IDLE]);
    this.#arm(IDLE, this.requestAckInterval);
  }

  // ---- outgoing ----

  /**
   * Write a stanza and queue it until acknowledged, or (the link is down or being resumed) keep it for the
   * resumption; or hold it (see below). `released`: a held write let through by `#drain()`.
   */
  async #write(el: Element, original: Element, released?: boolean): Promise<boolean> {
    const stanza = STANZAS.has(el.name);
    const rebinding = this.#rebinding;
    const waiting = this.#waiting;
    if (
      stanza &&
      !released &&
      (rebinding
        ? // isBindingIq: the IQs that set a session up (resource binding, legacy session) pass while stanzas are held.
          !(el.name === 'iq' && (el.getChild('bind', NS_BIND) || el.getChild('session', 'urn:ietf:params:xml:ns:xmpp-session')))
        : waiting.length || (this.#state && this.#queue.length >= this.maxQueue))
    ) {
      // Between a failed resumption and the new session, nothing may precede <bind/> (RFC 6120 7.1), and
      // messages re-sent from the old session go first. Otherwise the queue is full (or others wait for room):
      // while the link is up, acks are on their way, so wait for room, in order; while it is down, nobody knows when.
      if (!rebinding) {
        if (!this.#unansweredSince) this.requestAck(); // unless an <r/> is already waiting for its <a/>
        if (this.#state === HIBERNATING && !waiting.length) throw smError('queue-full', `${this.#queue.length} stanzas await an ack`);
      }
      return new Promise<boolean>((resolve, reject) => waiting.push([el, original, resolve, reject]));
    }
    if (!stanza || !this.#state) return this.#defaultWrite(el, original);
    const settle = this.#pending.get(original);
    this.#pending.delete(original);
    const transport = this.#entity.transport;
    this.#queue.push({ el, stamp: Date.now(), settle, xml: undefined });
    this.#markDirty();
    if (this.#state > ENABLED || !transport) {
      this.#notify('hibernated', el);
      return false;
    }
    this.#inFlight++;
    try {
      await transport.send(el);
    } catch {
      // The link died under us; the session (if resumable) keeps the stanza for the resumption.
      return false;
    }
    // scheduleAckRequest. Writes waiting for room need an ack to move: ask at once unless an <r/> is already out.
    if (++this.#sinceRequest >= this.requestAckAfter || (this.#waiting.length && !this.#unansweredSince)) this.requestAck();
    else {
      // Debounce without re-arming a timer per stanza (see #arm).
      this.#lastSend = Date.now();
      this.#timers[DEBOUNCE] ?? this.#arm(DEBOUNCE, this.requestAckDebounce);
    }
    return true;
  }

  /** Let waiting writes through, oldest first, as far as the queue has room (all of them without a session); held ones wait for `#ready()`. */
  #drain(): void {
    const waiting = this.#waiting;
    // Nothing may follow our closing tag (RFC 6120 section 4.4): while closing, what waits stays (stop() fails it).
    while (waiting.length && !this.#rebinding && !(this.#state && this.#queue.length >= this.maxQueue) && !/^(cl|d)/.test(this.#entity.status)) {
      const [el, original, resolve, reject] = waiting.shift()!;
      this.#write(el, original, true).then(resolve, reject);
    }
  }

  /** Writes still waiting get `error`: they were never written. */
  #rejectWaiting(error: StreamManagementError): void {
    for (const waiting of this.#waiting.splice(0)) waiting[3](error);
  }

  /**
   * Write a stream management element; it resolves once written, or at once (undefined) when there is no link.
   * Nothing may follow our closing tag (RFC 6120 section 4.4): not while closing, closed or disconnect(ing),
   * except the final `<a/>` of `onClosing`.
   */
  #send(name: string, attrs?: Record<string, string | number | null>, closing?: boolean): Promise<void> | undefined {
    return this.#put(xml(name, { xmlns: NS_SM, ...attrs }), closing);
  }

  /** Write an element outside `send()` (see `#send`). */
  #put(el: Element, closing?: boolean): Promise<void> | undefined {
    const entity = this.#entity;
    const transport = entity.transport;
    if (transport && (closing || !/^(cl|d)/.test(entity.status))) return transport.send(el).then(() => entity.emitSent(el), noop);
  }

  // ---- incoming ----

  #onElement(el: Element): void {
    this.#lastInput = Date.now();
    if (this.#state === ENABLED && STANZAS.has(el.name)) {
      this.inbound = (this.inbound + 1) >>> 0;
      this.#markDirty();
      return;
    }
    const attrs = el.attrs;
    if (attrs.xmlns !== NS_SM) return;
    const state = this.#state;
    switch (el.name) {
      case 'r':
        if (state === ENABLED) this.#send('a', { h: this.inbound });
        return;
      case 'a':
        if (this.#established) this.#onAck(attrs.h);
        return;
      case 'enabled': {
        // onEnabled
        if (state !== ENABLING) return;
        const max = Number(attrs.max);
        this.#state = ENABLED;
        this.inbound = 0;
        this.id = attrs.id ?? null;
        this.#resumable = /^(true|1)$/.test(attrs.resume!) && this.#options.resume !== false;
        this.max = Number.isFinite(max) ? max : null;
        this.location = attrs.location ?? null;
        this.#jid = this.#entity.jid;
        break;
      }
      case 'resumed':
        // onResumed
        if (state !== RESUMING) return;
        if ((attrs.previd ?? this.id) !== this.id) {
          this.#warn(smError('resume-failed', `resumed previd ${attrs.previd} is not ${this.id}`));
        }
        if (!this.#onAck(attrs.h)) break;
        // Everything the server's h did not cover goes out again, in order, before anything new (a stanza
        // sent from a `retry` listener is kept behind it, and goes out with it).
        for (const entry of this.#queue) {
          this.#notify('retry', entry.el);
          this.#put(entry.el);
        }
        this.#inFlight = this.#queue.length;
        this.#state = ENABLED;
        break;
      case 'failed':
        // onResumeFailed, onEnableFailed: a refused <enable/> leaves the stream up without stream management
        // (stanzas sent since were delivered normally, but no ack will come).
        if (state !== RESUMING && state !== ENABLING) return;
        this.#end(smError(state === RESUMING ? 'resume-failed' : 'not-enabled', failedCondition(el), el));
        break;
      default:
        return;
    }
    // A session is on (enabled or resumed): probe the link when it goes silent, save the session.
    if (this.#state === ENABLED) {
      this.#armIdleProbe();
      this.#markDirty();
    }
    this.#answer?.(el);
  }

  /** Process an `h` from `<a/>`, `<resumed/>` or `<failed/>`. Returns false when it was too high. */
  #onAck(value: string | undefined, lenient?: boolean): boolean {
    const h = Number(value);
    // An integer in 0 … 2^32 - 1.
    if (h !== h >>> 0) {
      this.#warn(`invalid h="${String(value).slice(0, 20)}"`);
      return true;
    }
    this.#unansweredSince = 0;
    let count = delta(h, this.acked);
    const inFlight = this.#inFlight;
    if (count > inFlight) {
      if (!lenient && this.#options.handledCountTooHigh !== 'resync') {
        // handledCountTooHigh: XEP-0198 section 6, then the session ends (the stream error, then the close).
        const entity = this.#entity;
        const transport = entity.transport;
        this.#drop = 'handled-count-too-high';
        this.#resumable = false;
        this.#put(
          xml(
            'stream:error',
            { 'xmlns:stream': NS_STREAMS },
            xml('undefined-condition', NS_STREAM_ERRORS),
            xml('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': this.outbound }),
          ),
        )
          ?.then(() => transport!.closeStream())
          .catch(noop)
          .then(() => void entity.disconnect());
        return false;
      }
      this.#warn(smError('handled-count-too-high', `the server acked ${count}, only ${inFlight} sent: resynced`));
      count = inFlight;
    }
    // Settle the ledger first, then tell listeners (a throwing listener cannot leave it half done).
    this.acked = h;
    const done = this.#queue.splice(0, count);
    this.#inFlight -= count;
    if (count) {
      this.#markDirty();
      this.#drain();
    }
    for (const entry of done) {
      entry.settle?.resolve();
      this.#notify('ack', entry.el);
    }
    return true;
  }

  // ---- negotiation ----

  /** Enter `state`, send `<name/>`, and wait for the answer `#onElement` accepts in that state; undefined when the link goes away first. */
  #ask(state: number, name: string, attrs: Record<string, string | number | null>): Promise<Element | undefined> {
    this.#state = state;
    return new Promise((resolve) => {
      this.#answer = resolve;
      // No link to ask on (it is going away): no answer will come.
      if (!this.#send(name, attrs)) resolve(undefined);
    });
  }

  /**
   * The new session is set up, with stream management or (`online` while rebinding) without:
   * messages kept from a failed resumption go first (resendFromFailedSession) or fail (failResends), then
   * what was held while it was being set up (releaseHeld), in order.
   */
  #ready(): void {
    this.#rebinding = false;
    const held = this.#waiting.splice(0);
    const resend = this.#toResend.splice(0);
    if (this.#state === ENABLED) {
      this.#notify('enabled', { id: this.id, resume: this.canResume, max: this.max, location: this.location });
      for (const entry of resend) {
        const stanza = entry.el;
        // A new session has a new full JID: the old `from` would be refused as invalid-from.
        delete stanza.attrs.from;
        if (!stanza.getChild('delay', NS_DELAY)) stanza.appendChild(xml('delay', { xmlns: NS_DELAY, stamp: new Date(entry.stamp).toISOString() }));
        this.#notify('retry', stanza);
        this.#pending.set(stanza, entry.settle);
        // Straight to our own write: the outgoing filters ran when it was first sent, and an asynchronous
        // filter would let the held stanzas below overtake it.
        this.#write(stanza, stanza).then(
          (written) => written && this.#entity.emitSent(stanza),
          (err: unknown) => {
            this.#pending.delete(stanza);
            this.#fail(smError('resume-failed', 'the re-send failed', undefined, err), entry);
          },
        );
      }
    } else this.#fail(smError('not-enabled', 'no stream management on the new session'), ...resend);
    this.#waiting.push(...held);
    this.#drain();
  }

  // ---- lifecycle ----

  /**
   * End the session, with its stored state: every stanza still waiting gets `error` (after the `h` of a
   * `<failed h/>` has acknowledged what it covers). A failed resumption (`resume-failed`) is followed by a new
   * session: writes held for it keep waiting, `resumeFailed` is emitted, and under `resend: 'messages'`
   * messages are kept to be sent again on it.
   */
  #end(error: StreamManagementError): void {
    const resumeFailed = error.condition === 'resume-failed';
    // Writes waiting for room were never queued: they fail before the `h` of a <failed/> frees room,
    // which would otherwise let them onto the new stream ahead of <bind/>.
    if (!this.#rebinding) this.#rejectWaiting(error);
    const h = error.element?.attrs.h;
    if (h !== undefined) this.#onAck(h, true);
    this.#clearTimers();
    this.#state = OFF;
    this.#resumable = false;
    this.id = this.max = this.location = this.#jid = this.#drop = null;
    this.inbound = this.acked = this.#inFlight = 0;
    this.#persist(true);
    const entries = [...this.#queue.splice(0), ...this.#toResend.splice(0)];
    if (resumeFailed) {
      this.#rebinding = true;
      this.#notify('resumeFailed', error);
    }
    for (const entry of entries) {
      if (resumeFailed && this.#options.resend === 'messages' && entry.el.name === 'message') this.#toResend.push(entry);
      else this.#fail(error, entry);
    }
  }

  #fail(error: StreamManagementError, ...entries: Entry[]): void {
    for (const entry of entries) {
      entry.settle?.reject(error);
      this.#notify('fail', entry.el, error);
    }
  }

  /** Emit to the application; a throwing listener is reported as the client's `error`, never breaks the bookkeeping. */
  #notify<K extends 'ack' | 'fail' | 'hibernated' | 'retry' | 'enabled' | 'resumeFailed'>(event: K, ...args: StreamManagementEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: StreamManagementEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#entity.emitError(toError(err));
    }
  }

  /** Emit `warning` with an Error (a string becomes its message). */
  #warn(err: unknown): void {
    this.emit('warning', toError(err));
  }

  #clearTimers(): void {
    this.#timers.forEach(clearTimeout);
    this.#timers = [];
    this.#sinceRequest = this.#unansweredSince = 0;
  }

  // ---- persistence ----

  /** The resumable state as plain JSON data, or null when there is no resumable session. */
  snapshot(): StreamManagementState | null {
    const jid = this.#jid;
    return this.canResume && jid
      ? {
          version: 1,
          id: this.id!,
          jid: jid.toString(),
          service: this.#entity.service,
          location: this.location,
          max: this.max,
          inbound: this.inbound,
          acked: this.acked,
          unacked: this.#queue.map((e) => ({ xml: (e.xml ??= e.el.toString()), stamp: e.stamp })),
          savedAt: Date.now(),
        }
      : null;
  }

  #markDirty(): void {
    if (this.#options.store) this.#timers[SAVE] ??= setTimeout(() => this.flush(), this.#options.saveDelay ?? 50);
  }

  /** Write the state to the store now. */
  flush(): void {
    this.#persist();
  }

  /**
   * Save the state now (when there is one), or clear it. Store operations run one after the other, so a
   * clear() always lands after an earlier save().
   */
  #persist(clear?: boolean): void {
    clearTimeout(this.#timers[SAVE]);
    this.#timers[SAVE] = undefined;
    const store = this.#options.store;
    const state = store && !clear && this.snapshot();
    if (store && (clear || state)) {
      this.#storeChain = this.#storeChain.then(() => (state ? store.save(state) : store.clear())).catch((err: unknown) => this.#warn(err));
    }
  }

  /** Load a resumable session from the store (runs at start()). */
  async restore(): Promise<boolean> {
    const store = this.#options.store;
    if (!store || this.canResume) return false;
    const entity = this.#entity;
    const username = entity.username;
    let state: StreamManagementState | null | undefined;
    let jid: JID;
    try {
      await this.#storeChain;
      state = await store.load();
      if (!state) return false;
      jid = parseJid(state.jid);
      if (username && !jid.bare().equals(`${username}@${entity.options.domain}`)) {
        throw new Error(`stored session of ${state.jid}: not this account`);
      }
    } catch (err) {
      // an error from the store, a JID that does not parse, another account: ignored with a warning
      this.#warn(err);
      return false;
    }
    const queue = this.#queue;
    for (const { xml: text, stamp } of state.unacked) {
      try {
        queue.push({ el: parse(text), stamp, settle: undefined, xml: text });
      } catch {
        this.#warn('unreadable stored stanza');
      }
    }
    this.id = state.id;
    this.#jid = entity.jid = jid;
    this.inbound = state.inbound >>> 0;
    this.acked = state.acked >>> 0;
    this.max = state.max;
    this.location = state.location;
    this.#inFlight = queue.length;
    this.#resumable = true;
    this.#state = HIBERNATING;
    return true;
  }
}

/** The condition of a `<failed/>`: its first child other than `<text/>` (normally in the stanza errors namespace). */
function failedCondition(el: Element): string {
  return el.getChildElements().find((c) => c.name !== 'text')?.name ?? 'undefined-condition';
}
