import { createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { client } from '@xmppkit/client';
import { Connection } from '@xmppkit/connection';
import { debug, envEnabled, redact } from '@xmppkit/debug';
import { ScriptedServer, tick, type ServerConnection } from '@xmppkit/test';
import { parse, xml, type Element } from '@xmppkit/xml';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SASL2 = 'urn:xmpp:sasl:2';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const HIDDEN_ATTR = '(hidden)';
/** the marker that replaces secret text: one `<hidden xmlns='xmppkit'/>` element */
const isMarker = (children: unknown[] | undefined) =>
  children?.length === 1 && String(children[0]) === '<hidden xmlns="xmppkit"/>';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** Every text node anywhere below `el`. */
function texts(el: Element): string[] {
  return el.children.flatMap((c) => (typeof c === 'string' ? [c] : texts(c)));
}

describe('redact()', () => {
  it.each(['auth', 'challenge', 'response', 'success'])('hides the payload of SASL <%s/>', (name) => {
    const el = parse(`<${name} xmlns='${NS_SASL}' mechanism='SCRAM-SHA-1'>bixuPWFsaWNlLHI9c2VjcmV0bm9uY2U=</${name}>`);
    const out = redact(el);
    expect(out.name).toBe(name);
    expect(out.attrs).toEqual({ xmlns: NS_SASL, mechanism: 'SCRAM-SHA-1' });
    expect(isMarker(out.children)).toBe(true);
    expect(out.toString()).not.toContain('bixuPWFsaWNlLHI9c2VjcmV0bm9uY2U=');
  });

  it('leaves an empty SASL element empty', () => {
    expect(redact(xml('success', NS_SASL)).children).toEqual([]);
    expect(redact(xml('response', NS_SASL, '  ')).children).toEqual([]);
  });

  it('hides a payload split over several text nodes with a single marker', () => {
    const out = redact(xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }, 'AGFsaWNl', 'AHNlY3JldA=='));
    expect(isMarker(out.children)).toBe(true);
  });

  it('does not hide SASL element names in other namespaces, nor <mechanisms/> and <failure/>', () => {
    const other = parse(`<auth xmlns='urn:example:other'>visible</auth>`);
    expect(redact(other).getText()).toBe('visible');
    const mechanisms = xml('mechanisms', NS_SASL, xml('mechanism', {}, 'SCRAM-SHA-1'), xml('mechanism', {}, 'PLAIN'));
    expect(redact(mechanisms).toString()).toBe(mechanisms.toString());
    const failure = parse(`<failure xmlns='${NS_SASL}'><not-authorized/><text>bad</text></failure>`);
    expect(redact(failure).toString()).toBe(failure.toString());
  });

  it('hides the SASL2 <initial-response/> of <authenticate/> and keeps the rest', () => {
    const el = parse(
      `<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'>` +
        `<initial-response>biwsbj1hbGljZSxyPW5vbmNl</initial-response>` +
        `<user-agent id='d4565fa7'><software>xmppkit</software><device>laptop</device></user-agent></authenticate>`,
    );
    const out = redact(el);
    expect(out.attrs.mechanism).toBe('SCRAM-SHA-256');
    expect(isMarker(out.getChild('initial-response')?.children)).toBe(true);
    expect(out.getChild('user-agent')?.attrs.id).toBe('d4565fa7');
    expect(out.getChild('user-agent')?.getChildText('software')).toBe('xmppkit');
    expect(out.getChild('user-agent')?.getChildText('device')).toBe('laptop');
    expect(out.toString()).not.toContain('biwsbj1hbGljZSxyPW5vbmNl');
  });

  it.each(['challenge', 'response'])('hides the payload of SASL2 <%s/>', (name) => {
    const out = redact(xml(name, NS_SASL2, 'cj1ub25jZSxzPXNhbHQsaT00MDk2'));
    expect(isMarker(out.children)).toBe(true);
  });

  it('hides everything inside a SASL2 <success/>, additional data included', () => {
    const el = xml('success', NS_SASL2, xml('additional-data', {}, 'dj1zZXJ2ZXJzaWc='), xml('authorization-identifier', {}, 'alice@localhost/r'));
    const out = redact(el);
    expect(isMarker(out.getChild('additional-data')?.children)).toBe(true);
    expect(out.toString()).not.toContain('dj1zZXJ2ZXJzaWc=');
  });

  it('hides the jabber:iq:register <password/> and keeps the username', () => {
    const el = parse(
      `<iq type='set' id='reg2'><query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password><email>bard@shakespeare.lit</email></query></iq>`,
    );
    const out = redact(el);
    const query = out.getChild('query', 'jabber:iq:register');
    expect(query?.getChildText('username')).toBe('bill');
    expect(query?.getChildText('email')).toBe('bard@shakespeare.lit');
    expect(isMarker(query?.getChild('password')?.children)).toBe(true);
    expect(out.toString()).not.toContain('Calliope');
  });

  it('hides the jabber:iq:auth <password/> and <digest/> and keeps username and resource', () => {
    const plain = redact(
      parse(`<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bill</username><password>Calliope</password><resource>globe</resource></query></iq>`),
    );
    expect(plain.getChild('query')?.getChildText('username')).toBe('bill');
    expect(plain.getChild('query')?.getChildText('resource')).toBe('globe');
    expect(isMarker(plain.getChild('query')?.getChild('password')?.children)).toBe(true);
    expect(plain.toString()).not.toContain('Calliope');
    const digest = redact(
      parse(`<iq type='set' id='auth3'><query xmlns='jabber:iq:auth'><username>bill</username><digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest><resource>globe</resource></query></iq>`),
    );
    expect(isMarker(digest.getChild('query')?.getChild('digest')?.children)).toBe(true);
    expect(digest.toString()).not.toContain('48fc78be9ec8f86d8ce1c39c320c97c21d62334d');
  });

  it('hides any `token` attribute, wherever it is', () => {
    const el = xml(
      'iq',
      { type: 'result', id: 't1' },
      xml('token', { xmlns: 'urn:xmpp:fast:0', expiry: '2030-01-01T00:00:00Z', token: 'WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZm' }),
    );
    const inner = xml('request-token', { xmlns: 'urn:xmpp:fast:0', mechanism: 'HT-SHA-256-NONE' });
    const root = xml('wrapper', { token: 'top-level-token' }, el, inner);
    const out = redact(root);
    expect(out.attrs.token).toBe(HIDDEN_ATTR);
    const token = out.getChild('iq')?.getChild('token', 'urn:xmpp:fast:0');
    expect(token?.attrs.token).toBe(HIDDEN_ATTR);
    expect(token?.attrs.expiry).toBe('2030-01-01T00:00:00Z');
    expect(out.getChild('request-token')?.attrs.mechanism).toBe('HT-SHA-256-NONE');
    const text = out.toString();
    expect(text).not.toContain('WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZm');
    expect(text).not.toContain('top-level-token');
  });

  it('leaves other text and attributes alone', () => {
    const el = parse(
      `<message to='romeo@example.net' from='juliet@example.org/balcony' type='chat' id='m1'>` +
        `<body>my password is not hidden here &amp; that is fine</body><thread>t1</thread>` +
        `<x xmlns='jabber:x:data' type='form'><field var='muc#roomconfig_roomname'><value>Room</value></field></x></message>`,
    );
    const out = redact(el);
    expect(out.toString()).toBe(el.toString());
    expect(texts(out)).toEqual(texts(el));
  });

  it('never mutates the original and returns fresh elements all the way down', () => {
    const password = xml('password', {}, 'Calliope');
    const query = xml('query', 'jabber:iq:register', xml('username', {}, 'bill'), password);
    const iq = xml('iq', { type: 'set', id: 'reg', token: 'abc' }, query);
    const auth = xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }, 'AGJpbGwAQ2FsbGlvcGU=');
    const before = [iq.toString(), auth.toString()];
    const out = redact(iq);
    const outAuth = redact(auth);
    expect([iq.toString(), auth.toString()]).toEqual(before);
    expect(iq.attrs.token).toBe('abc');
    expect(password.children).toEqual(['Calliope']);
    expect(password.parent).toBe(query);
    expect(query.parent).toBe(iq);
    expect(out).not.toBe(iq);
    expect(out.attrs).not.toBe(iq.attrs);
    expect(out.getChild('query')).not.toBe(query);
    expect(out.getChild('query')?.parent).toBe(out);
    expect(outAuth).not.toBe(auth);
    expect(auth.children).toEqual(['AGJpbGwAQ2FsbGlvcGU=']);
  });
});

describe('envEnabled()', () => {
  it.each([
    ['1', true],
    ['true', true],
    ['yes', true],
    ['', false],
    ['0', false],
    ['false', false],
  ])('XMPPKIT_DEBUG=%j gives %s', (value, expected) => {
    vi.stubEnv('XMPPKIT_DEBUG', value);
    expect(envEnabled()).toBe(expected);
  });

  it('is false when XMPPKIT_DEBUG is not set', () => {
    vi.stubEnv('XMPPKIT_DEBUG', undefined);
    expect(envEnabled()).toBe(false);
  });

  it('returns false without throwing where there is no `process` (browsers)', () => {
    vi.stubGlobal('process', undefined);
    let result: boolean | undefined;
    let thrown: unknown;
    try {
      result = envEnabled();
    } catch (err) {
      thrown = err;
    } finally {
      vi.unstubAllGlobals();
    }
    expect(thrown).toBeUndefined();
    expect(result).toBe(false);
    expect(globalThis.process).toBeDefined();
  });

  it('returns false for a `process` without `env`', () => {
    vi.stubGlobal('process', {});
    let result: boolean | undefined;
    try {
      result = envEnabled();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(result).toBe(false);
  });
});

describe('debug()', () => {
  const EVENTS = ['element', 'send', 'status', 'error'] as const;
  const listeners = (conn: Connection) => EVENTS.map((e) => conn.listenerCount(e));

  it('debug(entity) is disabled without XMPPKIT_DEBUG, and adds no listener', () => {
    vi.stubEnv('XMPPKIT_DEBUG', undefined);
    const spy = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    const conn = new Connection({ domain: 'localhost' });
    const handle = debug(conn);
    expect(handle.enabled).toBe(false);
    expect(listeners(conn)).toEqual([0, 0, 0, 0]);
    conn.emit('element', xml('message'));
    conn.emit('status', 'online');
    expect(spy).not.toHaveBeenCalled();
    expect(() => handle.stop()).not.toThrow();
  });

  it.each(['', '0', 'false'])('is disabled with XMPPKIT_DEBUG=%j and no force', (value) => {
    vi.stubEnv('XMPPKIT_DEBUG', value);
    const conn = new Connection({ domain: 'localhost' });
    const log = vi.fn();
    expect(debug(conn, false, log).enabled).toBe(false);
    conn.emit('element', xml('message'));
    expect(log).not.toHaveBeenCalled();
  });

  it('uses console.debug by default', () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const spy = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    const conn = new Connection({ domain: 'localhost' });
    const handle = debug(conn, true);
    conn.emit('element', xml('presence'));
    expect(spy).toHaveBeenCalledWith('IN', '<presence/>');
    handle.stop();
  });

  it('is enabled by XMPPKIT_DEBUG=1 without force', () => {
    vi.stubEnv('XMPPKIT_DEBUG', '1');
    const conn = new Connection({ domain: 'localhost' });
    const log = vi.fn();
    const handle = debug(conn, false, log);
    expect(handle.enabled).toBe(true);
    conn.emit('element', xml('message', { from: 'a@b' }));
    expect(log).toHaveBeenCalledWith('IN', '<message from="a@b"/>');
    handle.stop();
  });

  it('is disabled without force where there is no `process`', () => {
    const conn = new Connection({ domain: 'localhost' });
    const log = vi.fn();
    vi.stubGlobal('process', undefined);
    let handle: ReturnType<typeof debug> | undefined;
    try {
      handle = debug(conn, false, log);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(handle?.enabled).toBe(false);
    expect(listeners(conn)).toEqual([0, 0, 0, 0]);
  });

  it('logs IN, OUT, status and error through the given logger, redacted, until stop()', () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const conn = new Connection({ domain: 'localhost' });
    const log = vi.fn();
    const handle = debug(conn, true, log);
    expect(handle.enabled).toBe(true);
    conn.emit('element', xml('message', { from: 'romeo@example.net' }, xml('body', {}, 'hi')));
    conn.emit('send', xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }, 'AGFsaWNlAGFsaWNlLXNlY3JldA=='));
    conn.emit('status', 'online');
    conn.emit('error', new TypeError('oops'));
    expect(log.mock.calls).toEqual([
      ['IN', '<message from="romeo@example.net"><body>hi</body></message>'],
      ['OUT', redact(xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }, 'AGFsaWNlAGFsaWNlLXNlY3JldA==')).toString()],
      ['status', 'online'],
      ['error', 'TypeError: oops'],
    ]);
    expect(JSON.stringify(log.mock.calls)).not.toContain('AGFsaWNlAGFsaWNlLXNlY3JldA==');
    handle.stop();
    expect(listeners(conn)).toEqual([0, 0, 0, 0]);
    conn.emit('status', 'offline');
    expect(log).toHaveBeenCalledTimes(4);
  });

  it('logs a ScriptedServer session: statuses, OUT and IN elements', async () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const server = new ScriptedServer();
    const conn = new Connection({ domain: 'localhost', transports: [server.factory] });
    const lines: string[] = [];
    debug(conn, true, (...args) => lines.push(args.join(' ')));
    const connecting = conn.connect('memory:');
    const peer = await server.nextConnection();
    await connecting;
    const opening = conn.open();
    await peer.nextHeader();
    peer.sendHeader();
    await opening;
    await conn.send(xml('presence'));
    peer.send(xml('message', { from: 'romeo@example.net' }, xml('body', {}, 'hello')));
    await tick();
    await conn.stop();
    expect(lines).toEqual([
      'status connecting',
      'status connect',
      'status opening',
      'status open',
      'OUT <presence/>',
      'IN <message from="romeo@example.net"><body>hello</body></message>',
      'status closing',
      'status close',
      'status disconnecting',
      'status disconnect',
      'status offline',
    ]);
  });

  it('logs a stream error from the server as IN and error', async () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const server = new ScriptedServer();
    const conn = new Connection({ domain: 'localhost', transports: [server.factory] });
    const lines: string[] = [];
    debug(conn, true, (...args) => lines.push(args.join(' ')));
    const connecting = conn.connect('memory:');
    const peer = await server.nextConnection();
    await connecting;
    const opening = conn.open();
    await peer.nextHeader();
    peer.sendHeader();
    await opening;
    peer.sendStreamError('conflict', 'Replaced by new connection');
    await vi.waitFor(() => expect(conn.status).toBe('disconnect'));
    expect(lines).toContain('error StreamError: conflict - Replaced by new connection');
    expect(lines.some((l) => l.startsWith('IN <stream:error'))).toBe(true);
  });
});

/** A SCRAM-SHA-1 server on node:crypto playing the server side of a login. */
async function scramLogin(peer: ServerConnection, password: string): Promise<string[]> {
  const payloads: string[] = [];
  await peer.nextHeader();
  peer.sendHeader();
  peer.sendFeatures(xml('mechanisms', NS_SASL, xml('mechanism', {}, 'SCRAM-SHA-1')));
  const auth = await peer.next('auth');
  payloads.push(auth.text());
  const clientFirst = Buffer.from(auth.text(), 'base64').toString();
  const [, clientFirstBare = '', clientNonce = ''] = /^n,,(n=[^,]*,r=([^,]+))$/.exec(clientFirst) ?? [];
  const salt = randomBytes(16);
  const iterations = 4096;
  const serverFirst = `r=${clientNonce}${randomBytes(12).toString('base64')},s=${salt.toString('base64')},i=${iterations}`;
  const challenge = Buffer.from(serverFirst).toString('base64');
  payloads.push(challenge);
  peer.send(xml('challenge', NS_SASL, challenge));
  const response = await peer.next('response');
  payloads.push(response.text());
  const clientFinal = Buffer.from(response.text(), 'base64').toString();
  const withoutProof = clientFinal.replace(/,p=[^,]*$/, '');
  const salted = pbkdf2Sync(password, salt, iterations, 20, 'sha1');
  const serverKey = createHmac('sha1', salted).update('Server Key').digest();
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const success = Buffer.from(`v=${createHmac('sha1', serverKey).update(authMessage).digest('base64')}`).toString('base64');
  payloads.push(success);
  peer.send(xml('success', NS_SASL, success));
  await peer.nextHeader();
  peer.sendHeader();
  peer.sendFeatures(xml('bind', NS_BIND));
  await peer.bind('alice@localhost/r1');
  return payloads;
}

describe('debug() during a login', () => {
  it('never logs the password or any SASL payload of a SCRAM exchange', async () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const password = 'alice-very-secret-pa55word';
    const server = new ScriptedServer();
    const xmpp = client({
      service: 'memory://localhost',
      domain: 'localhost',
      username: 'alice',
      password,
      transports: [server.factory],
      reconnect: false,
      sasl: { mechanisms: ['SCRAM-SHA-1'] },
    });
    const lines: string[] = [];
    debug(xmpp, true, (...args) => lines.push(args.map(String).join(' ')));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const payloads = await scramLogin(peer, password);
    await started;
    expect(xmpp.sasl.mechanism).toBe('SCRAM-SHA-1');
    // Change the password in-band (XEP-0077), which carries it in clear text.
    const changing = xmpp.iqCaller.set(xml('query', 'jabber:iq:register', xml('username', {}, 'alice'), xml('password', {}, `${password}-2`)));
    const iq = await peer.next((el) => el.name === 'iq' && el.getChild('query', 'jabber:iq:register') !== undefined);
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id }));
    await changing;
    await xmpp.stop();

    const output = lines.join('\n');
    expect(lines.some((l) => l.startsWith('OUT <auth'))).toBe(true);
    expect(lines.some((l) => l.startsWith('IN <challenge'))).toBe(true);
    expect(lines.some((l) => l.startsWith('OUT <response'))).toBe(true);
    expect(lines.some((l) => l.startsWith('IN <success'))).toBe(true);
    expect(lines.some((l) => l.startsWith('OUT <iq') && l.includes('jabber:iq:register'))).toBe(true);
    expect(lines).toContain('status online');
    expect(output).not.toContain(password);
    expect(output).not.toContain(Buffer.from(password).toString('base64'));
    expect(payloads).toHaveLength(4);
    for (const payload of payloads) {
      expect(payload.length).toBeGreaterThan(8);
      expect(output).not.toContain(payload);
    }
    // The nonce-bearing client-first-message never shows, even decoded.
    expect(output).not.toContain(Buffer.from(payloads[0] ?? '', 'base64').toString());
  });

  it('never logs the password of a PLAIN login', async () => {
    vi.stubEnv('XMPPKIT_DEBUG', '');
    const password = 'pencil-and-paper-42';
    const server = new ScriptedServer();
    const xmpp = client({
      service: 'memory://localhost',
      domain: 'localhost',
      username: 'alice',
      password,
      transports: [server.factory],
      reconnect: false,
      sasl: { mechanisms: ['PLAIN'] },
    });
    const lines: string[] = [];
    debug(xmpp, true, (...args) => lines.push(args.map(String).join(' ')));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ jid: 'alice@localhost/r1' });
    await started;
    await xmpp.stop();
    const auth = peer.received.find((el) => el.name === 'auth');
    expect(Buffer.from(auth?.text() ?? '', 'base64').toString()).toBe(`\0alice\0${password}`);
    const output = lines.join('\n');
    expect(output).toContain('OUT <auth');
    expect(output).not.toContain(password);
    expect(output).not.toContain(auth?.text() ?? 'unreachable');
  });
});

describe('redact() and data forms', () => {
  it('hides password fields of XEP-0004 forms (XEP-0077 registration)', () => {
    const iq = parse(
      `<iq type='set'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='username'><value>juliet</value></field>` +
        `<field var='password' type='text-private'><value>Calliope</value></field></x></query></iq>`,
    );
    const text = redact(iq).toString();
    expect(text).not.toContain('Calliope');
    expect(text).toContain('juliet');
  });
});
