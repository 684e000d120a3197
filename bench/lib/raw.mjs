// The floor: a hand-rolled XMPP-over-WebSocket client (RFC 7395) on `ws` that writes pre-built strings
// and reads frames with string tests and one regex. No XML parser, no element objects, no middleware.
// It does the minimum a Stream Management client must do: open, SASL (PLAIN, or SCRAM-SHA-1 with the
// salted keys cached per client object, as xmppkit does), bind, <enable resume/>, answer the server's
// <r/>, read the server's <a h/>, and resume (<resume/> after re-authenticating).
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import WebSocket from 'ws';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SM = 'urn:xmpp:sm:3';
const OPEN = (domain) => `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`;
const H = /\sh=["'](\d+)["']/;
const ATTR = (name) => new RegExp(`\\s${name}=["']([^"']*)["']`);
const ID = ATTR('id');
const MAX = ATTR('max');
const JID = /<jid>([^<]*)<\/jid>/;
const SASL_TEXT = />([^<]*)</;

const b64 = (s) => Buffer.from(s).toString('base64');
const hmac = (key, data) => createHmac('sha1', key).update(data).digest();

export class RawClient {
  /**
   * @param {{ service: string, domain: string, username: string, password: string, resource?: string,
   *           mechanism?: 'PLAIN' | 'SCRAM-SHA-1', requestAckAfter?: number, reconnect?: boolean }} options
   */
  constructor(options) {
    this.options = options;
    this.mechanism = options.mechanism ?? 'PLAIN';
    this.requestAckAfter = options.requestAckAfter ?? 10;
    this.ws = null;
    this.jid = null;
    this.smId = null;
    this.inbound = 0; // our h
    this.outbound = 0; // stanzas written on this session
    this.acked = 0; // the server's last h
    this.unacked = []; // strings written and not acknowledged, for resumption
    this.sinceRequest = 0;
    this.received = 0; // incoming <message/> stanzas
    this.online = false;
    this.stopping = false;
    this.scramKeys = null; // { salt, iterations, clientKey, serverKey }
    this.onEnabled = null;
    this.onResumed = null;
    this.onAck = null; // called with the new h
    this.onMessage = null;
    this.step = null; // the negotiation step waiting for the next frame
  }

  /** Connect, authenticate, bind and enable SM; resolves when <enabled/> arrives. */
  start() {
    this.stopping = false;
    return this.#connect(false);
  }

  /** Re-authenticate and resume the SM session; resolves on <resumed/>. */
  resume() {
    return this.#connect(true);
  }

  #connect(resuming) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.options.service, ['xmpp']);
      this.ws = ws;
      this.online = false;
      ws.on('error', (err) => {
        if (!this.online) reject(err);
      });
      ws.on('close', () => {
        if (this.ws !== ws) return;
        this.ws = null;
        const wasOnline = this.online;
        this.online = false;
        if (!wasOnline) reject(new Error('closed during negotiation'));
        else if (!this.stopping && this.options.reconnect) this.resume().catch(() => undefined);
      });
      ws.on('open', () => ws.send(OPEN(this.options.domain)));
      ws.on('message', (data) => this.#frame(data.toString()));
      this.#negotiate(resuming).then(resolve, (err) => {
        reject(err);
        ws.terminate();
      });
    });
  }

  /** Wait for the next frame that `test` accepts (negotiation frames arrive one by one). */
  #next(test) {
    return new Promise((resolve) => {
      this.step = (frame) => {
        if (!test(frame)) return false;
        this.step = null;
        resolve(frame);
        return true;
      };
    });
  }

  async #negotiate(resuming) {
    const isFeatures = (f) => f.startsWith('<stream:features');
    await this.#next(isFeatures);
    await (this.mechanism === 'PLAIN' ? this.#plain() : this.#scram());
    this.ws.send(OPEN(this.options.domain));
    await this.#next(isFeatures);
    if (resuming) {
      this.ws.send(`<resume xmlns="${NS_SM}" h="${this.inbound}" previd="${this.smId}"/>`);
      const answer = await this.#next((f) => f.startsWith('<resumed') || f.startsWith('<failed'));
      if (answer.startsWith('<failed')) throw new Error(`resumption failed: ${answer}`);
      this.online = true;
      this.#acknowledged(Number(H.exec(answer)[1]));
      // Re-send what the server's h did not cover, then ask for an ack.
      for (const s of this.unacked) this.ws.send(s);
      if (this.unacked.length) this.requestAck();
      this.onResumed?.();
      return;
    }
    const resource = this.options.resource ? `<resource>${this.options.resource}</resource>` : '';
    this.ws.send(`<iq xmlns="jabber:client" type="set" id="bind1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind">${resource}</bind></iq>`);
    const bound = await this.#next((f) => f.startsWith('<iq') && f.includes('bind1'));
    this.jid = JID.exec(bound)?.[1] ?? null;
    this.inbound = 0;
    this.outbound = 0;
    this.acked = 0;
    this.unacked = [];
    this.sinceRequest = 0;
    this.ws.send(`<enable xmlns="${NS_SM}" resume="true"/>`);
    const enabled = await this.#next((f) => f.startsWith('<enabled') || f.startsWith('<failed'));
    if (enabled.startsWith('<failed')) throw new Error(`enable failed: ${enabled}`);
    this.smId = ID.exec(enabled)?.[1] ?? null;
    this.max = MAX.exec(enabled)?.[1] ?? null;
    this.online = true;
    this.onEnabled?.();
  }

  async #plain() {
    const { username, password } = this.options;
    this.ws.send(`<auth xmlns="${NS_SASL}" mechanism="PLAIN">${b64(`\0${username}\0${password}`)}</auth>`);
    const answer = await this.#next((f) => f.startsWith('<success') || f.startsWith('<failure'));
    if (!answer.startsWith('<success')) throw new Error(`authentication failed: ${answer}`);
  }

  async #scram() {
    const { username, password } = this.options;
    const nonce = randomBytes(18).toString('base64');
    const clientFirstBare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
    this.ws.send(`<auth xmlns="${NS_SASL}" mechanism="SCRAM-SHA-1">${b64(`n,,${clientFirstBare}`)}</auth>`);
    const challenge = await this.#next((f) => f.startsWith('<challenge') || f.startsWith('<failure'));
    if (!challenge.startsWith('<challenge')) throw new Error(`authentication failed: ${challenge}`);
    const serverFirst = Buffer.from(SASL_TEXT.exec(challenge)[1], 'base64').toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    if (!attrs.r.startsWith(nonce)) throw new Error('bad server nonce');
    const iterations = Number(attrs.i);
    let keys = this.scramKeys;
    if (!keys || keys.salt !== attrs.s || keys.iterations !== iterations) {
      const salted = await new Promise((resolve, reject) =>
        pbkdf2(password, Buffer.from(attrs.s, 'base64'), iterations, 20, 'sha1', (err, key) => (err ? reject(err) : resolve(key))),
      );
      keys = { salt: attrs.s, iterations, clientKey: hmac(salted, 'Client Key'), serverKey: hmac(salted, 'Server Key') };
    }
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(createHash('sha1').update(keys.clientKey).digest(), authMessage);
    const proof = Buffer.alloc(20);
    for (let i = 0; i < 20; i++) proof[i] = keys.clientKey[i] ^ signature[i];
    this.ws.send(`<response xmlns="${NS_SASL}">${b64(`${withoutProof},p=${proof.toString('base64')}`)}</response>`);
    const answer = await this.#next((f) => f.startsWith('<success') || f.startsWith('<failure'));
    if (!answer.startsWith('<success')) throw new Error(`authentication failed: ${answer}`);
    const final = Buffer.from(SASL_TEXT.exec(answer)?.[1] ?? '', 'base64').toString();
    const expected = hmac(keys.serverKey, authMessage);
    const v = Buffer.from(final.startsWith('v=') ? final.slice(2) : '', 'base64');
    if (v.length !== expected.length || !timingSafeEqual(v, expected)) throw new Error('server signature mismatch');
    this.scramKeys = keys;
  }

  #frame(frame) {
    const c = frame.charCodeAt(1);
    // <message, <presence, <iq: count them (our h)
    if (this.online && (c === 109 || c === 112 || c === 105) && (frame.startsWith('<message') || frame.startsWith('<presence') || frame.startsWith('<iq'))) {
      this.inbound++;
      if (c === 109) {
        this.received++;
        this.onMessage?.();
      }
      return;
    }
    if (frame.startsWith('<r ') || frame.startsWith('<r/')) {
      this.ws.send(`<a xmlns="${NS_SM}" h="${this.inbound}"/>`);
      return;
    }
    if (frame.startsWith('<a ')) {
      this.#acknowledged(Number(H.exec(frame)[1]));
      return;
    }
    if (this.step?.(frame)) return;
  }

  #acknowledged(h) {
    const count = h - this.acked;
    if (count <= 0) return;
    this.acked = h;
    this.unacked.splice(0, count);
    this.onAck?.(h);
  }

  /** Write a pre-built stanza string; ask for an ack every `requestAckAfter` stanzas. */
  send(stanza) {
    this.unacked.push(stanza);
    this.outbound++;
    if (this.ws && this.online) {
      this.ws.send(stanza);
      if (++this.sinceRequest >= this.requestAckAfter) this.requestAck();
    }
  }

  requestAck() {
    this.sinceRequest = 0;
    if (this.ws && this.online) this.ws.send(`<r xmlns="${NS_SM}"/>`);
  }

  /** Final <a/>, close the stream, wait for the server's close and the socket. */
  stop() {
    this.stopping = true;
    const ws = this.ws;
    if (!ws) return Promise.resolve();
    return new Promise((resolve) => {
      ws.on('close', () => resolve());
      this.step = (f) => {
        if (f.startsWith('<close')) ws.close(1000);
        return true;
      };
      ws.send(`<a xmlns="${NS_SM}" h="${this.inbound}"/>`);
      ws.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
      setTimeout(() => ws.terminate(), 5000).unref();
    });
  }
}
