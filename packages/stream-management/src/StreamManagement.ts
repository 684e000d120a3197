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

// The session's state. `> ENABLED` is "the link is down or being resumed": stanzas are kept, not written.
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


/** The tunable settings and their defaults. */
const DEFAULTS = { requestAckAfter: 10, requestAckDebounce: 250, requestAckInterval: 30_000, timeout: 20_000, maxQueue: 1000, preferredMaximum: null };

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
  el: Element;
  /** when it was first sent (ms since the epoch) */
  stamp: number;
  /** written on the current or the previous stream (counts toward the server's h) */
  sent: boolean;
  /** `hibernated` already emitted for the current outage */
  hib: boolean;
  settle: Settle | undefined;
  /** the serialised stanza, once a snapshot needed it */
  xml: string | undefined;
}

/** What `#ask()` waits for (besides `failed`), and where it goes. */
type Waiter = [string, (el: Element | undefined) => void];

/** A write held until the new session is ready: `[el, original, resolve, reject]`. */
type Held = [Element, Element, (written: boolean) => void, (err: Error) => void];

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
  #counting = false;
  #queue: Entry[] = [];
  /** number of entries at the head of the queue that were written (they count toward the server's h) */
  #inFlight = 0;
  #pending = new WeakMap<Element, Settle>();
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
  #held: Held[] = [];
  #streamClosed = false;
  #dropOnDisconnect: StreamManagementCondition | null = null;
  #toResend: Entry[] = [];
  /** the answer `#ask()` waits for (besides `failed`), and where it goes */
  #waiter: Waiter | null = null;
  #jidString: string | null = null;
  /** writes waiting for room in a full queue while the link is up (backpressure), in order */
  #spaceWaiters: Settle[] = [];
  /** waiters let through whose entries are not in the queue yet */
  #releasing = 0;

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
      const transport = entity.transport;
      if (this.#counting && transport) {
        const a = xml('a', { xmlns: NS_SM, h: this.inbound });
        await transport.send(a);
        entity.emitSent(a);
      }
    });
    entity.startHooks.push(() => this.restore() as Promise<unknown> as Promise<void>);
    entity.on('close', () => {
      this.#streamClosed = true;
    });
    // onDisconnect
    entity.on('disconnect', () => {
      this.#clearTimers();
      this.#waiter = null;
      if (this.#rebinding) {
        this.#rebinding = false;
        const error = smError('not-resumable', 'the link dropped before the new session was ready');
        for (const held of this.#held.splice(0)) held[3](error);
      }
      const state = this.#state;
      if (state === OFF && !this.#busy()) return;
      // A stream error or a clean close ends the session only on the stream the session lives on; a
      // reconnection attempt that fails (a redirect, a timeout, a refused login) leaves it hibernating.
      const established = state === ENABLED || state === ENABLING;
      const condition =
        this.#dropOnDisconnect ??
        (entity.stopping
          ? 'stopped'
          : established && entity.lastStreamError
            ? 'stream-error'
            : established && this.#streamClosed
              ? 'stopped'
              : this.canResume
                ? null
                : 'not-resumable');
      this.#streamClosed = false;
      if (condition) return this.#dropSession(condition);
      this.#state = HIBERNATING;
      this.#counting = false;
      for (const entry of this.#queue) {
        if (entry.hib) continue;
        entry.hib = true;
        this.#notify('hibernated', entry.el);
      }
      this.flush();
    });
    // onStopped: stop() ends the session; a start() that failed (say, no network after a reload) keeps it for the next start().
    entity.stopHooks.push(() => {
      if (this.#busy() || this.canResume) this.#dropSession('stopped');
    });

    // resumeFeature
    streamFeatures.use('sm', NS_SM, async (_ctx, next) => {
      if (!this.canResume || this.#state !== HIBERNATING) return next();
      const el = await this.#ask(RESUMING, 'resumed', xml('resume', { xmlns: NS_SM, h: this.inbound, previd: this.id }));
      if (el?.name === 'failed') return next();
      // No answer: disconnected while resuming, still hibernating, reconnect tries again.
      // A drop pending: the <resumed h/> was refused (handled-count-too-high).
      if (!el || this.#dropOnDisconnect) return;
      await this.#resend();
      // (read afresh: TypeScript still narrows it to HIBERNATING from the check above)
      if ((this.#state as number) !== ENABLED) return;
      entity.setResumed(entity.jid ?? parseJid(this.#jidString!));
      this.emit('resumed');
      this.requestAck();
    }, 500);
    // A new session without stream management: what was held waits no longer.
    entity.on('status', (status) => {
      if (status === 'online' && this.#rebinding) this.#ready();
    });
    // Binding while a session still waits for resumption means it cannot be resumed here (no <sm/> offered).
    streamFeatures.use('bind', NS_BIND, (_ctx, next) => {
      if (this.#state === HIBERNATING) this.#resumeImpossible('stream management not offered');
      return next();
    }, 450);
    // enableFeature
    streamFeatures.use('sm', NS_SM, async (_ctx, next) => {
      if (this.#state !== OFF) return next();
      this.acked = this.#inFlight = 0;
      this.#streamClosed = false;
      if (!(await this.#ask(ENABLING, 'enabled', xml('enable', options.resume !== false ? { xmlns: NS_SM, resume: 'true', max: this.preferredMaximum } : NS_SM)))) return;
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
      // Still ours when the write neither tracked nor failed it.
      const untracked = (): boolean => pending.get(stanza) === settle && pending.delete(stanza);
      this.#entity.send(stanza).then(
        () => {
          if (!untracked()) return;
          // Written untracked while online or open, although stream management is on: a filter dropped it.
          const dropped = /^o[np]/.test(this.#entity.status) && this.#state !== OFF;
          reject(smError(dropped ? 'dropped' : 'not-enabled', dropped ? 'dropped by an outgoing filter' : 'stream management is not active'));
        },
        (err: unknown) => {
          if (untracked()) reject(err instanceof StreamManagementError ? err : smError('not-enabled', toError(err).message, undefined, err));
        },
      );
    });
  }

  /** Ask the server for an ack now (does not extend a pending deadline). */
  requestAck(): void {
    this.#sinceRequest = 0;
    if (this.#state !== ENABLING && this.#state !== ENABLED) return;
    this.#sendNonza(xml('r', NS_SM));
    this.#unansweredSince ||= Date.now();
    this.#timers[DEADLINE] ?? this.#arm(DEADLINE, this.timeout);
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
        this.#unansweredSince = 0;
        const transport = this.#entity.transport;
        if (!transport) return;
        // Tear the socket down without closing the stream, so the session stays resumable.
        const text = `no acknowledgement within ${this.timeout} ms`;
        this.#warn(new TimeoutError(text));
        transport.destroy(new Error(text));
      }
    }, ms);
  }

  #armIdleProbe(): void {
    clearTimeout(this.#timers[IDLE]);
    this.#arm(IDLE, this.requestAckInterval);
  }

  // ---- outgoing ----

  async #write(el: Element, original: Element): Promise<boolean> {
    const stanza = STANZAS.has(el.name);
    // isBindingIq: the IQs that set a session up (resource binding, legacy session) pass while stanzas are held.
    if (this.#rebinding && stanza && !(el.name === 'iq' && (el.getChild('bind', NS_BIND) || el.getChild('session', 'urn:ietf:params:xml:ns:xmpp-session')))) {
      // Between a failed resumption and the new session: nothing may precede <bind/> (RFC 6120 7.1),
      // and messages re-sent from the old session go first.
      return new Promise<boolean>((resolve, reject) => this.#held.push([el, original, resolve, reject]));
    }
    if (!stanza || this.#state === OFF) return this.#defaultWrite(el, original);
    if (this.#queue.length >= this.maxQueue || this.#spaceWaiters.length > 0 || this.#releasing > 0) {
      if (!this.#unansweredSince) this.requestAck(); // unless an <r/> is already waiting for its <a/>
      // While the link is up, acks are on their way: wait for room, in order. While it is down, nobody knows when.
      if (this.#state !== ENABLED && !this.#spaceWaiters.length && !this.#releasing) {
        throw smError('queue-full', `${this.#queue.length} stanzas await an ack`);
      }
      await new Promise<void>((resolve, reject) => this.#spaceWaiters.push({ resolve, reject }));
      this.#releasing--;
      if (this.#state === OFF || this.#rebinding) {
        // The session changed while this write waited: start over (held while rebinding, else untracked).
        if (!this.#releasing) this.#releaseSpace();
        return this.#write(el, original);
      }
    }
    const settle = this.#pending.get(original);
    if (settle) this.#pending.delete(original);
    const transport = this.#entity.transport;
    // Written now, or (the link is down or being resumed) kept for the resumption.
    const sent = this.#state < RESUMING && !!transport;
    this.#queue.push({ el, stamp: Date.now(), sent, hib: !sent, settle, xml: undefined });
    if (!this.#releasing && this.#spaceWaiters.length) this.#releaseSpace();
    this.#markDirty();
    if (!sent) {
      this.#notify('hibernated', el);
      return false;
    }
    this.#inFlight++;
    try {
      await transport!.send(el);
    } catch {
      // The link died under us; the session (if resumable) keeps the stanza for the resumption.
      return false;
    }
    // scheduleAckRequest. Writes waiting for room need an ack to move: ask at once unless an <r/> is already out.
    if (++this.#sinceRequest >= this.requestAckAfter || (this.#spaceWaiters.length && !this.#unansweredSince)) this.requestAck();
    else {
      // Debounce without re-arming a timer per stanza (see #arm).
      this.#lastSend = Date.now();
      this.#timers[DEBOUNCE] ?? this.#arm(DEBOUNCE, this.requestAckDebounce);
    }
    return true;
  }

  /** Let waiting writes through, oldest first, as far as the queue has room. */
  #releaseSpace(): void {
    while (this.#spaceWaiters.length && this.#queue.length + this.#releasing < this.maxQueue) {
      this.#releasing++;
      this.#spaceWaiters.shift()!.resolve();
    }
  }

  /** Writes waiting for room get the session's error: they were never queued. */
  #rejectSpaceWaiters(error: StreamManagementError): void {
    for (const waiter of this.#spaceWaiters.splice(0)) waiter.reject(error);
  }

  #sendNonza(el: Element): void {
    const transport = this.#entity.transport;
    // Nothing may follow our closing tag (RFC 6120 section 4.4): not while closing, closed or disconnect(ing).
    if (transport && !/^(cl|d)/.test(this.#entity.status)) transport.send(el).then(() => this.#entity.emitSent(el), () => undefined);
  }

  // ---- incoming ----

  #onElement(el: Element): void {
    this.#lastInput = Date.now();
    if (this.#counting && STANZAS.has(el.name)) {
      this.inbound = (this.inbound + 1) >>> 0;
      this.#markDirty();
      return;
    }
    const attrs = el.attrs;
    if (attrs.xmlns !== NS_SM) return;
    const state = this.#state;
    let text: string;
    switch (el.name) {
      case 'r':
        if (this.#counting) this.#sendNonza(xml('a', { xmlns: NS_SM, h: this.inbound }));
        return;
      case 'a':
        if (state === ENABLED || state === ENABLING) this.#onAck(attrs.h);
        return;
      case 'enabled':
        // onEnabled
        if (state === ENABLING) {
          const max = Number(attrs.max);
          this.#state = ENABLED;
          this.#counting = true;
          this.inbound = 0;
          this.id = attrs.id ?? null;
          this.#resumable = (attrs.resume === 'true' || attrs.resume === '1') && this.id !== null && this.#options.resume !== false;
          this.max = Number.isFinite(max) ? max : null;
          this.location = attrs.location ?? null;
          this.#jidString = this.#entity.jid?.toString() ?? null;
        }
        break;
      case 'resumed':
        // onResumed
        if (state === RESUMING) {
          if (attrs.previd !== undefined && attrs.previd !== this.id) {
            this.#warn(smError('resume-failed', `resumed previd ${attrs.previd} is not ${this.id}`));
          }
          this.#counting = true;
          this.#streamClosed = false;
          if (this.#onAck(attrs.h)) {
            // Everything still queued goes out again, in order, before anything new.
            for (const entry of this.#queue) entry.sent = false;
            this.#inFlight = 0;
            if (this.#jidString) this.#entity.jid = parseJid(this.#jidString);
          }
        }
        break;
      case 'failed':
        // onResumeFailed, onEnableFailed
        text = failedCondition(el);
        if (state === RESUMING) this.#resumeImpossible(text, el);
        else if (state === ENABLING) {
          // The stream stays up without stream management; stanzas sent since <enable/> were delivered normally.
          const error = smError('not-enabled', text, el);
          this.#fail(error, ...this.#resetSession(error));
        }
        break;
      default:
        return;
    }
    const waiter = this.#waiter;
    if (waiter && (el.name === 'failed' || el.name === waiter[0])) {
      this.#waiter = null;
      waiter[1](el);
    }
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
        const error = xml(
          'stream:error',
          { 'xmlns:stream': NS_STREAMS },
          xml('undefined-condition', NS_STREAM_ERRORS),
          xml('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': this.outbound }),
        );
        const transport = entity.transport;
        this.#dropOnDisconnect = 'handled-count-too-high';
        this.#resumable = false;
        transport
          ?.send(error)
          .then(() => {
            entity.emitSent(error);
            return transport.closeStream();
          })
          .catch(() => undefined)
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
      this.#releaseSpace();
    }
    for (const entry of done) {
      entry.settle?.resolve();
      this.#notify('ack', entry.el);
    }
    return true;
  }

  // ---- negotiation ----

  /** Enter `state`, send `request`, and wait for `<failed/>` or the given answer; undefined when the link goes away first. */
  #ask(state: number, name: string, request: Element): Promise<Element | undefined> {
    const signal = this.#entity.signal;
    this.#state = state;
    const answer = new Promise<Element | undefined>((resolve) => {
      const waiter: Waiter = (this.#waiter = [name, resolve]);
      // The listener may outlive the answer: it then leaves a later waiter alone and resolves nothing.
      const onAbort = (): void => {
        if (this.#waiter === waiter) this.#waiter = null;
        resolve(undefined);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    this.#sendNonza(request);
    return answer;
  }

  async #resend(): Promise<void> {
    const transport = this.#entity.transport;
    for (const entry of this.#queue) {
      if (entry.sent) continue;
      if (!transport || this.#entity.transport !== transport) return;
      entry.sent = true;
      this.#inFlight++;
      this.#notify('retry', entry.el);
      try {
        await transport.send(entry.el);
        this.#entity.emitSent(entry.el);
      } catch {
        return;
      }
    }
    for (const entry of this.#queue) entry.hib = false;
    this.#state = ENABLED;
    this.#armIdleProbe();
    this.#markDirty();
  }

  /** The hibernated session is gone: report or re-send what is left, per the `resend` policy. */
  #resumeImpossible(text: string, element?: Element): void {
    const error = smError('resume-failed', text, element);
    // Writes waiting for room were never queued: they fail before the `h` of a <failed/> frees room,
    // which would otherwise let them onto the new stream ahead of <bind/>.
    this.#rejectSpaceWaiters(error);
    if (element?.attrs.h !== undefined) this.#onAck(element.attrs.h, true);
    const remaining = this.#resetSession(error, true);
    this.#rebinding = true;
    this.emit('resumeFailed', error);
    for (const entry of remaining) {
      if (this.#options.resend === 'messages' && entry.el.name === 'message') this.#toResend.push(entry);
      else this.#fail(error, entry);
    }
  }

  /**
   * The new session is set up, with stream management or (status `online` while rebinding) without:
   * messages kept from a failed resumption go first (resendFromFailedSession) or fail (failResends), then
   * what was held while it was being set up (releaseHeld), in order.
   */
  #ready(): void {
    this.#rebinding = false;
    if (this.#state === ENABLED) {
      this.emit('enabled', { id: this.id, resume: this.#resumable, max: this.max, location: this.location });
      this.#armIdleProbe();
      for (const entry of this.#toResend.splice(0)) {
        const stanza = entry.el;
        // A new session has a new full JID: the old `from` would be refused as invalid-from.
        delete stanza.attrs.from;
        if (!stanza.getChild('delay', NS_DELAY)) stanza.appendChild(xml('delay', { xmlns: NS_DELAY, stamp: new Date(entry.stamp).toISOString() }));
        this.#notify('retry', stanza);
        if (entry.settle) this.#pending.set(stanza, entry.settle);
        this.#entity.send(stanza).catch((err: unknown) => {
          const settle = this.#pending.get(stanza);
          this.#pending.delete(stanza);
          const error = smError('resume-failed', 'could not re-send on the new session', undefined, err);
          settle?.reject(error);
          this.emit('fail', stanza, error);
        });
      }
      this.#markDirty();
    } else this.#fail(smError('not-enabled', 'no stream management on the new session'), ...this.#toResend.splice(0));
    for (const [el, original, resolve, reject] of this.#held.splice(0)) this.#write(el, original).then(resolve, reject);
  }

  // ---- lifecycle ----

  /** Stanzas or writes still waiting for an outcome (a count: 0 when none). */
  #busy(): number {
    return this.#queue.length + this.#toResend.length + this.#spaceWaiters.length;
  }

  /** End the session for good: report every unacknowledged stanza, forget the state. */
  #dropSession(condition: StreamManagementCondition): void {
    // A stream error's text is the server's condition.
    const text =
      condition === 'stream-error'
        ? this.#entity.lastStreamError?.condition
        : condition === 'stopped'
          ? 'the session ended before the server acknowledged the stanza'
          : condition === 'not-resumable'
            ? 'the link dropped and the session cannot be resumed'
            : undefined;
    const error = smError(condition, text);
    this.#fail(error, ...this.#resetSession(error, true), ...this.#toResend.splice(0));
  }

  /** Forget the session (and with `clear`, the stored state); writes waiting for room get `error`. Returns the queue. */
  #resetSession(error: StreamManagementError, clear?: boolean): Entry[] {
    this.#rejectSpaceWaiters(error);
    this.#clearTimers();
    this.#state = OFF;
    this.#counting = this.#resumable = this.#streamClosed = false;
    this.id = this.max = this.location = this.#jidString = this.#dropOnDisconnect = null;
    this.inbound = this.acked = this.#inFlight = 0;
    if (clear) this.#persist(true);
    return this.#queue.splice(0);
  }

  #fail(error: StreamManagementError, ...entries: Entry[]): void {
    for (const entry of entries) {
      entry.settle?.reject(error);
      this.#notify('fail', entry.el, error);
    }
  }

  /** Emit to the application; a throwing listener is reported as the client's `error`, never breaks the bookkeeping. */
  #notify<K extends 'ack' | 'fail' | 'hibernated' | 'retry'>(event: K, ...args: StreamManagementEvents[K]): void {
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
    return this.canResume && this.#jidString
      ? {
          version: 1,
          id: this.id!,
          jid: this.#jidString,
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
      this.#storeChain = this.#storeChain
        .then(() => (state ? store.save(state) : store.clear()))
        .catch((err: unknown) => this.#warn(err));
    }
  }

  /** Load a resumable session from the store (runs at start()). */
  async restore(): Promise<boolean> {
    const store = this.#options.store;
    if (!store || this.canResume) return false;
    const entity = this.#entity;
    let state: StreamManagementState | null | undefined;
    try {
      await this.#storeChain;
      state = await store.load();
    } catch (err) {
      this.#warn(err);
      return false;
    }
    if (!state) return false;
    const username = entity.username;
    let jid: JID | undefined;
    try {
      jid = parseJid(state.jid);
    } catch {
      // not a JID: not this account
    }
    if (!jid || (username && jid.bare().toString() !== `${username}@${entity.options.domain}`.toLowerCase())) {
      this.#warn(`ignored the stored session of ${state.jid}: not this account`);
      return false;
    }
    const entries: Entry[] = [];
    for (const item of state.unacked) {
      try {
        entries.push({ el: parse(item.xml), stamp: item.stamp, sent: true, hib: true, settle: undefined, xml: item.xml });
      } catch {
        this.#warn('unreadable stored stanza');
      }
    }
    this.id = state.id;
    this.#jidString = state.jid;
    entity.jid = jid;
    this.inbound = state.inbound >>> 0;
    this.acked = state.acked >>> 0;
    this.max = state.max;
    this.location = state.location;
    this.#queue.push(...entries);
    this.#inFlight = entries.length;
    this.#resumable = true;
    this.#state = HIBERNATING;
    return true;
  }
}

function failedCondition(el: Element): string {
  return el.getChildElements().find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' || c.attrs.xmlns === undefined)?.name ?? 'undefined-condition';
}
