// One small adapter per client under test, so that every measurement runs the same code for all three:
//
//   xmppkit  packages/client/dist (this repository, built by `pnpm build`)
//   xmppjs   @xmpp/client 0.14 (root devDependency)
//   raw      bench/lib/raw.mjs: pre-built strings on `ws`, the floor
//
// Every adapter offers:
//   start()        resolves with performance.now() taken when Stream Management is enabled (new session)
//   stop()         clean logout (final <a/>, </stream>)
//   send(i, to)    build and send <message type='headline' to=… id=…><body>…</body></message>
//   flush()        ask the server for an ack now
//   acked          stanzas of this session the server acknowledged (counted from the library's own events)
//   received       <message/> stanzas received
//   waitAck()      resolves at the next acknowledgement
//   onResumed      callback: the session was resumed
// The ack policy is the same on the wire for all three: one <r/> every 10 stanzas (xmppkit's default
// requestAckAfter; the raw client does the same; for xmpp.js, which only asks 250 ms after a burst,
// the adapter sends the <r/> itself).
import { performance } from 'node:perf_hooks';
import { RawClient } from './raw.mjs';

export const KINDS = ['xmppkit', 'xmppjs', 'raw'];
export const LABELS = { xmppkit: 'xmppkit', xmppjs: 'xmpp.js 0.14', raw: 'raw ws' };
const NS_SM = 'urn:xmpp:sm:3';
const ACK_EVERY = 10;

/** Load the library of `kind` (outside of any measured interval). */
export async function load(kind) {
  if (kind === 'xmppkit') return import('../../packages/client/dist/index.js');
  if (kind === 'xmppjs') {
    if (typeof globalThis.WebSocket !== 'function') {
      // @xmpp/websocket uses the global WebSocket (Node >= 22, or --experimental-websocket on Node 20);
      // the runner passes the flag, XMPPJS_WEBSOCKET=ws swaps in `ws` instead.
      const { default: WebSocket } = await import('ws');
      globalThis.WebSocket = WebSocket;
    }
    return import('@xmpp/client');
  }
  return { RawClient };
}

class Waiters {
  list = [];
  wait() {
    return new Promise((resolve) => this.list.push(resolve));
  }
  wake() {
    if (this.list.length === 0) return;
    const list = this.list;
    this.list = [];
    for (const resolve of list) resolve();
  }
}

/**
 * @param {'xmppkit'|'xmppjs'|'raw'} kind
 * @param {object} lib what load(kind) returned
 * @param {{ service: string, domain: string, username: string, password: string, resource: string,
 *           mechanism: 'SCRAM-SHA-1'|'PLAIN', reconnect?: boolean, timeout?: number }} o
 *   (timeout: the libraries' per-step deadline in ms, raised for the scale test)
 */
export function createClient(kind, lib, o) {
  if (kind === 'xmppkit') return xmppkitClient(lib, o);
  if (kind === 'xmppjs') return xmppjsClient(lib, o);
  return rawClient(lib, o);
}

function xmppkitClient({ client, xml }, o) {
  const xmpp = client({
    service: o.service,
    domain: o.domain,
    username: o.username,
    password: o.password,
    resource: o.resource,
    ...(o.timeout ? { timeout: o.timeout } : {}),
    // SCRAM-SHA-1 is what the default preference list picks on Prosody; PLAIN only when asked for.
    ...(o.mechanism === 'PLAIN' ? { sasl: { mechanisms: ['PLAIN'] } } : {}),
    // Resume at once after a cut: the figure is the library's work, not its backoff policy.
    reconnect: o.reconnect ? { initialDelay: 0 } : false,
  });
  xmpp.on('error', () => undefined);
  const sm = xmpp.streamManagement;
  const acks = new Waiters();
  let onEnabled = null;
  const a = {
    xmpp,
    acked: 0,
    received: 0,
    onResumed: null,
    async start() {
      let at = 0;
      onEnabled = () => (at = performance.now());
      await xmpp.start();
      return at;
    },
    stop: () => xmpp.stop(),
    send: (i, to) => xmpp.send(xml('message', { type: 'headline', to, id: `m${i}` }, xml('body', {}, `benchmark stanza ${i}`))),
    flush: () => sm.requestAck(),
    waitAck: () => acks.wait(),
  };
  sm.on('enabled', () => {
    a.acked = 0;
    onEnabled?.();
  });
  sm.on('ack', () => {
    a.acked++;
    acks.wake();
  });
  sm.on('resumed', () => a.onResumed?.());
  xmpp.on('stanza', (s) => {
    if (s.name === 'message') a.received++;
  });
  return a;
}

function xmppjsClient({ client, xml }, o) {
  const xmpp = client({
    service: o.service,
    domain: o.domain,
    username: o.username,
    password: o.password,
    resource: o.resource,
    ...(o.timeout ? { timeout: o.timeout } : {}),
    // xmpp.js picks SCRAM-SHA-1 by itself; PLAIN through its documented credentials callback.
    ...(o.mechanism === 'PLAIN' ? { credentials: (authenticate) => authenticate({ username: o.username, password: o.password }, 'PLAIN') } : {}),
  });
  xmpp.on('error', () => undefined);
  if (o.reconnect) xmpp.reconnect.delay = 0;
  else xmpp.reconnect.stop();
  const sm = xmpp.streamManagement;
  const acks = new Waiters();
  // xmpp.js has no `enabled` event (its `online` comes before <enable/>): watch the flag it sets.
  let enabledFlag = sm.enabled;
  let onEnabled = null;
  Object.defineProperty(sm, 'enabled', {
    get: () => enabledFlag,
    set: (v) => {
      enabledFlag = v;
      if (v && onEnabled) {
        const cb = onEnabled;
        onEnabled = null;
        cb();
      }
    },
  });
  let sinceRequest = 0;
  const r = () => xml('r', { xmlns: NS_SM });
  const a = {
    xmpp,
    acked: 0,
    received: 0,
    onResumed: null,
    async start() {
      a.acked = 0;
      const enabled = new Promise((resolve) => (onEnabled = () => resolve(performance.now())));
      await xmpp.start();
      return enabled;
    },
    stop: () => xmpp.stop(),
    async send(i, to) {
      await xmpp.send(xml('message', { type: 'headline', to, id: `m${i}` }, xml('body', {}, `benchmark stanza ${i}`)));
      if (++sinceRequest >= ACK_EVERY) {
        sinceRequest = 0;
        await xmpp.send(r());
      }
    },
    flush() {
      sinceRequest = 0;
      xmpp.send(r()).catch(() => undefined);
    },
    waitAck: () => acks.wait(),
  };
  sm.on('ack', () => {
    a.acked++;
    acks.wake();
  });
  sm.on('resumed', () => {
    a.onResumed?.();
  });
  xmpp.on('stanza', (s) => {
    if (s.name === 'message') a.received++;
  });
  return a;
}

function rawClient({ RawClient: Raw }, o) {
  const c = new Raw({ ...o, requestAckAfter: ACK_EVERY });
  const acks = new Waiters();
  const a = {
    raw: c,
    get acked() {
      return c.acked;
    },
    get received() {
      return c.received;
    },
    onResumed: null,
    async start() {
      let at = 0;
      c.onEnabled = () => (at = performance.now());
      await c.start();
      return at;
    },
    stop: () => c.stop(),
    send: (i, to) => c.send(`<message xmlns="jabber:client" type="headline" to="${to}" id="m${i}"><body>benchmark stanza ${i}</body></message>`),
    flush: () => c.requestAck(),
    waitAck: () => acks.wait(),
  };
  c.onAck = () => acks.wake();
  c.onResumed = () => a.onResumed?.();
  return a;
}
