import { afterEach, describe, expect, it, vi } from 'vitest';
import { client, xml, type Element } from '@xmppkit/client';
import { ScriptedServer, ServerStreamManagement, smFeature, tick, type ServerConnection } from '@xmppkit/test';
import { NS_SM, StreamManagementError, memoryStore, type StreamManagementOptions, type StreamManagementStore } from '@xmppkit/stream-management';

const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

function setup(sm: StreamManagementOptions = {}, extra: Record<string, unknown> = {}) {
  const server = new ScriptedServer();
  const xmpp = client({
    service: 'memory://localhost',
    username: 'user',
    password: 'pencil',
    transports: [server.factory],
    timeout: 5000,
    streamManagement: sm,
    reconnect: { initialDelay: 10, random: () => 0 },
    ...extra,
  });
  const log: string[] = [];
  const acked: string[] = [];
  const failed: Array<[string, string]> = [];
  xmpp.streamManagement.on('ack', (s) => acked.push(s.attrs.id ?? s.name));
  xmpp.streamManagement.on('fail', (s, e) => failed.push([s.attrs.id ?? s.name, e.condition]));
  for (const event of ['enabled', 'resumed', 'hibernated', 'retry', 'resumeFailed'] as const) {
    xmpp.streamManagement.on(event, (arg?: unknown) => log.push(event + (arg && typeof arg === 'object' && 'attrs' in arg ? `:${(arg as Element).attrs.id}` : '')));
  }
  xmpp.on('online', () => log.push('online'));
  return { server, xmpp, log, acked, failed };
}

/** Log in with SM offered; answer <enable/> with `enabled` attributes (or `failed`). */
async function loginWithSM(peer: ServerConnection, enabled: Record<string, string> | 'failed' = { id: 'sm-1', resume: 'true', max: '600' }, jid = 'user@localhost/res') {
  await peer.login({ jid, postAuthFeatures: [smFeature()] });
  const enable = await peer.next('enable');
  const sm = new ServerStreamManagement(peer);
  if (enabled === 'failed') peer.send(xml('failed', NS_SM, xml('unexpected-request', 'urn:ietf:params:xml:ns:xmpp-stanzas')));
  else peer.send(xml('enabled', { xmlns: NS_SM, ...enabled }));
  return { enable, sm };
}

/** A client online with stream management enabled (`sm-1`, resumable) on a scripted server. */
async function online(sm: StreamManagementOptions = {}, extra: Record<string, unknown> = {}) {
  const ctx = setup(sm, extra);
  const started = ctx.xmpp.start();
  const peer = await ctx.server.nextConnection();
  const { sm: serverSM } = await loginWithSM(peer);
  await started;
  return { ...ctx, peer, sm: serverSM };
}

/** Play a resumption on a new connection: SASL, then `<resumed/>` (or `<failed/>`). */
async function resumeOn(peer: ServerConnection, answer: { h: number; previd?: string } | { failed: string; h?: number }) {
  await peer.authenticate({ features: [xml('bind', NS_BIND), smFeature()] });
  const resume = await peer.next('resume');
  if ('failed' in answer) {
    peer.send(xml('failed', { xmlns: NS_SM, h: answer.h }, xml(answer.failed, 'urn:ietf:params:xml:ns:xmpp-stanzas')));
  } else {
    peer.send(xml('resumed', { xmlns: NS_SM, h: answer.h, previd: answer.previd ?? resume.attrs.previd }));
  }
  return resume;
}

/** Stop reconnect, cut the link, wait for the disconnect, and start the next attempt by hand. */
async function cutAndReconnect(server: ScriptedServer, xmpp: ReturnType<typeof client>, peer: ServerConnection) {
  xmpp.reconnect.stop();
  peer.cut();
  await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
  const established = xmpp.establish();
  return { established, peer2: await server.nextConnection() };
}

/** After a failed resumption: bind a new resource and enable stream management as `sm-2` (with `track`, the server counts and acks). */
async function newSession(peer: ServerConnection, track?: true): Promise<ServerStreamManagement>;
async function newSession(peer: ServerConnection): Promise<void>;
async function newSession(peer: ServerConnection, track?: boolean): Promise<ServerStreamManagement | void> {
  await peer.bind('user@localhost/new');
  await peer.next('enable');
  const sm = track ? new ServerStreamManagement(peer) : undefined;
  peer.send(xml('enabled', { xmlns: NS_SM, id: 'sm-2', resume: 'true' }));
  return sm;
}

const msg = (id: string, to = 'friend@localhost') => xml('message', { to, id, type: 'chat' }, xml('body', {}, id));

afterEach(() => {
  vi.useRealTimers();
});

describe('negotiation', () => {
  it('enables after binding and goes online only after <enabled/>', async () => {
    const { server, xmpp, log } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const { enable } = await loginWithSM(peer);
    await started;
    const names = peer.received.map((el) => el.name);
    expect(names.indexOf('enable')).toBeGreaterThan(names.indexOf('iq'));
    expect(enable.attrs).toMatchObject({ xmlns: NS_SM, resume: 'true' });
    expect(log).toEqual(['enabled', 'online']);
    expect(xmpp.streamManagement).toMatchObject({ enabled: true, id: 'sm-1', max: 600, inbound: 0, outbound: 0, canResume: true });
    await xmpp.stop();
  });

  it('with resume: false asks for acks only', async () => {
    const { server, xmpp } = setup({ resume: false });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const { enable } = await loginWithSM(peer, { id: 'x' });
    await started;
    expect(enable.attrs.resume).toBeUndefined();
    expect(xmpp.streamManagement.canResume).toBe(false);
    await xmpp.stop();
  });

  it('treats <enabled/> without resume as not resumable even with an id', async () => {
    const { server, xmpp, failed } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer, { id: 'no-resume' });
    await started;
    expect(xmpp.streamManagement.canResume).toBe(false);
    await xmpp.send(msg('m1'));
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(failed).toEqual([['m1', 'not-resumable']]));
  });

  it('is off with enabled: false: no <enable/>, sendAcked rejects', async () => {
    const { server, xmpp } = setup({ enabled: false });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ postAuthFeatures: [smFeature()] });
    await started;
    await tick();
    expect(peer.received.find((el) => el.name === 'enable')).toBeUndefined();
    await expect(xmpp.streamManagement.sendAcked(msg('x'))).rejects.toMatchObject({ condition: 'not-enabled' });
    await xmpp.stop();
  });

  it('handles a refused <enable/>: stream stays up, stanzas sent since enable are reported, sendAcked rejects', async () => {
    const { server, xmpp, failed } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ postAuthFeatures: [smFeature()] });
    await peer.next('enable');
    peer.send(xml('failed', NS_SM, xml('unexpected-request', 'urn:ietf:params:xml:ns:xmpp-stanzas')));
    await started;
    expect(xmpp.status).toBe('online');
    expect(xmpp.streamManagement.enabled).toBe(false);
    await expect(xmpp.streamManagement.sendAcked(msg('after'))).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'not-enabled' });
    expect(failed).toEqual([]);
    // no second <enable/> on this stream
    expect(peer.received.filter((el) => el.name === 'enable')).toHaveLength(1);
    await xmpp.stop();
  });

  it('reports stanzas sent between <enable/> and a refusal', async () => {
    const { server, xmpp, failed } = setup();
    xmpp.start().catch(() => undefined);
    const peer = await server.nextConnection();
    await peer.login({ postAuthFeatures: [smFeature()] });
    await peer.next('enable');
    await xmpp.send(msg('early'));
    peer.send(xml('failed', NS_SM, xml('unexpected-request', 'urn:ietf:params:xml:ns:xmpp-stanzas')));
    await vi.waitFor(() => expect(xmpp.status).toBe('online'));
    expect(failed).toEqual([['early', 'not-enabled']]);
    await xmpp.stop();
  });

  it('counts outbound from <enable/> sent and inbound from <enabled/> received; stanzas in between are handled', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.login({ postAuthFeatures: [smFeature()] });
    await peer.next('enable');
    const seen: string[] = [];
    xmpp.on('stanza', (s) => seen.push(s.attrs.id ?? ''));
    await xmpp.send(msg('out-early'));
    peer.send(xml('message', { id: 'in-early', from: 'a@localhost' }));
    peer.send(xml('enabled', { xmlns: NS_SM, id: 's', resume: 'true' }));
    peer.send(xml('message', { id: 'in-late', from: 'a@localhost' }));
    await started;
    await vi.waitFor(() => expect(seen).toEqual(['in-early', 'in-late']));
    expect(xmpp.streamManagement.inbound).toBe(1);
    expect(xmpp.streamManagement.outbound).toBe(1);
    await xmpp.stop();
  });
});

describe('counting and acks', () => {
  it('counts message, presence and iq (including consumed IQ results), never nonzas, and answers <r/>', async () => {
    const { xmpp, peer } = await online();
    const ping = xmpp.iqCaller.get(xml('ping', 'urn:xmpp:ping'), 'localhost');
    const iq = await peer.next('iq');
    peer.send(xml('iq', { type: 'result', id: iq.attrs.id, from: 'localhost' }));
    await ping;
    peer.send(xml('message', { from: 'a@localhost' }), xml('presence', { from: 'a@localhost/x' }));
    peer.send(xml('iq', { type: 'get', id: 'p', from: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
    peer.send(xml('r', NS_SM));
    const a = await peer.next((el) => el.name === 'a');
    expect(a.attrs.h).toBe('4');
    expect(xmpp.streamManagement.inbound).toBe(4);
    await xmpp.stop();
  });

  it('acks stanzas up to h, resolves sendAcked, and reports each stanza once', async () => {
    const { xmpp, acked, peer, sm } = await online();
    sm.autoAck = false;
    const p1 = xmpp.streamManagement.sendAcked(msg('m1'));
    const p2 = xmpp.streamManagement.sendAcked(msg('m2'));
    await peer.next((el) => el.attrs.id === 'm2');
    sm.ack(1);
    await expect(p1).resolves.toBeUndefined();
    expect(acked).toEqual(['m1']);
    sm.ack(1); // unchanged h: nothing new
    sm.ack(2);
    await expect(p2).resolves.toBeUndefined();
    expect(acked).toEqual(['m1', 'm2']);
    await xmpp.stop();
  });

  it('wraps h at 2^32, inbound and outbound', async () => {
    const { xmpp, acked, peer, sm } = await online();
    sm.autoAck = false;
    xmpp.streamManagement.inbound = 2 ** 32 - 1;
    peer.send(xml('message', { from: 'a@localhost' }));
    peer.send(xml('r', NS_SM));
    expect((await peer.next('a')).attrs.h).toBe('0');

    xmpp.streamManagement.acked = 2 ** 32 - 2;
    for (const id of ['w1', 'w2', 'w3']) await xmpp.send(msg(id));
    expect(xmpp.streamManagement.outbound).toBe(1);
    sm.ack(1);
    await vi.waitFor(() => expect(acked).toEqual(['w1', 'w2', 'w3']));
    expect(xmpp.streamManagement.acked).toBe(1);
    await xmpp.stop();
  });

  it('a too-high h is answered with undefined-condition + handled-count-too-high, and the session ends', async () => {
    const { xmpp, failed, peer, sm } = await online();
    sm.autoAck = false;
    await xmpp.send(msg('t1'));
    sm.ack(5);
    const error = await peer.next((el) => el.name === 'stream:error');
    expect(error.getChild('undefined-condition', 'urn:ietf:params:xml:ns:xmpp-streams')).toBeDefined();
    expect(error.getChild('handled-count-too-high', NS_SM)?.attrs).toMatchObject({ h: '5', 'send-count': '1' });
    await vi.waitFor(() => expect(failed).toEqual([['t1', 'handled-count-too-high']]));
    expect(xmpp.streamManagement.canResume).toBe(false);
    xmpp.reconnect.stop();
  });

  it('a too-high h keeps its condition when the server then sends a stream error of its own', async () => {
    const { xmpp, failed, peer, sm } = await online();
    xmpp.on('error', () => undefined);
    sm.autoAck = false;
    await xmpp.send(msg('t1'));
    sm.ack(5);
    await peer.next((el) => el.name === 'stream:error');
    peer.send(xml('stream:error', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('undefined-condition', 'urn:ietf:params:xml:ns:xmpp-streams')));
    await vi.waitFor(() => expect(failed).toEqual([['t1', 'handled-count-too-high']]));
    xmpp.reconnect.stop();
  });

  it('with handledCountTooHigh: resync, a too-high h acks everything and warns', async () => {
    const { server, xmpp, acked } = setup({ handledCountTooHigh: 'resync' });
    const warnings: Error[] = [];
    xmpp.streamManagement.on('warning', (w) => warnings.push(w));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const { sm } = await loginWithSM(peer);
    await started;
    sm.autoAck = false;
    await xmpp.send(msg('r1'));
    sm.ack(7);
    await vi.waitFor(() => expect(acked).toEqual(['r1']));
    expect(warnings[0]).toBeInstanceOf(StreamManagementError);
    expect(xmpp.streamManagement.acked).toBe(7);
    expect(xmpp.status).toBe('online');
    await xmpp.send(msg('r2'));
    sm.ack(8);
    await vi.waitFor(() => expect(acked).toEqual(['r1', 'r2']));
    await xmpp.stop();
  });
});

describe('ack requests and dead links', () => {
  it('requests an ack after a burst (debounced) and after N stanzas, never after every stanza', async () => {
    const { xmpp, sm } = await online({ requestAckAfter: 10, requestAckDebounce: 250 });
    vi.useFakeTimers();
    for (let i = 0; i < 3; i++) await xmpp.send(msg(`b${i}`));
    await vi.advanceTimersByTimeAsync(249);
    expect(sm.requests).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sm.requests).toBe(1);
    for (let i = 0; i < 25; i++) await xmpp.send(msg(`c${i}`));
    await vi.advanceTimersByTimeAsync(0);
    expect(sm.requests).toBe(3); // at 10 and 20, the debounce for the tail is still pending
    await vi.advanceTimersByTimeAsync(250);
    expect(sm.requests).toBe(4);
    vi.useRealTimers();
    await xmpp.stop();
  });

  it('probes an idle link and tears a dead one down uncleanly; repeated probes do not extend the deadline', async () => {
    vi.useFakeTimers();
    const { xmpp, log, peer, sm } = await online({ requestAckInterval: 30_000, timeout: 10_000 });
    await xmpp.send(msg('ok'));
    await vi.advanceTimersByTimeAsync(300); // debounced <r/> answered
    expect(sm.requests).toBe(1);
    peer.blackholed = true;
    xmpp.reconnect.stop();
    const probes: number[] = [];
    xmpp.on('send', (el) => el.name === 'r' && probes.push(Date.now()));
    // silence for requestAckInterval: an idle probe, with a 10 s deadline
    while (probes.length === 0) await vi.advanceTimersByTimeAsync(10);
    expect(Date.now() - (probes[0] as number)).toBeLessThan(20);
    await vi.advanceTimersByTimeAsync(5_000);
    await xmpp.send(msg('stuck')); // more traffic and more probes must not extend the deadline
    xmpp.streamManagement.requestAck();
    await vi.advanceTimersByTimeAsync((probes[0] as number) + 10_000 - Date.now() - 1);
    expect(probes.length).toBeGreaterThan(1);
    expect(xmpp.status).toBe('online');
    await vi.advanceTimersByTimeAsync(1);
    expect(xmpp.status).toBe('disconnect');
    // no stream close was sent: the session stays resumable
    expect(xmpp.streamManagement.canResume).toBe(true);
    expect(log).toContain('hibernated:stuck');
    expect(peer.received.find((el) => el.name === 'stream:error')).toBeUndefined();
    vi.useRealTimers();
  });

  it('after an answered <r/>, the deadline runs from the next unanswered one', async () => {
    vi.useFakeTimers();
    const { xmpp, sm } = await online({ requestAckInterval: 60_000, timeout: 1000 });
    xmpp.reconnect.stop();
    xmpp.streamManagement.requestAck(); // t=0, answered at once
    await vi.advanceTimersByTimeAsync(500);
    expect(sm.requests).toBe(1);
    sm.peer.blackholed = true;
    xmpp.streamManagement.requestAck(); // t=500, never answered: dead at t=1500
    await vi.advanceTimersByTimeAsync(999);
    expect(xmpp.status).toBe('online');
    await vi.advanceTimersByTimeAsync(1);
    expect(xmpp.status).toBe('disconnect');
    vi.useRealTimers();
  });

  it('a burst longer than requestAckAfter keeps one debounce timer, and its tail still gets an <r/>', async () => {
    const { xmpp, sm } = await online({ requestAckAfter: 10, requestAckDebounce: 250 });
    vi.useFakeTimers();
    for (let i = 0; i < 95; i++) await xmpp.send(msg(`t${i}`));
    expect(sm.requests).toBe(9);
    expect(vi.getTimerCount()).toBeLessThanOrEqual(3); // debounce, deadline, idle probe
    await vi.advanceTimersByTimeAsync(250);
    expect(sm.requests).toBe(10);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sm.requests).toBe(10);
    vi.useRealTimers();
    await xmpp.stop();
  });
});

describe('resumption', () => {
  it('resumes after a cut: h applied, unacked and hibernated stanzas re-sent in order before new ones, no new online', async () => {
    const { server, xmpp, log, acked, peer, sm } = await online();
    sm.autoAck = false;
    const statuses: string[] = [];
    xmpp.on('status', (s) => statuses.push(s));
    for (const id of ['a1', 'a2', 'a3']) await xmpp.send(msg(id));
    peer.send(xml('message', { from: 'x@localhost', id: 'in1' }));
    await vi.waitFor(() => expect(xmpp.streamManagement.inbound).toBe(1));
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    const late = xmpp.streamManagement.sendAcked(msg('down1'));
    expect(log.filter((l) => l.startsWith('hibernated'))).toEqual(['hibernated:a1', 'hibernated:a2', 'hibernated:a3', 'hibernated:down1']);

    xmpp.reconnect.start();
    const established = xmpp.establish();
    const peer2 = await server.nextConnection();
    const resume = await resumeOn(peer2, { h: 1 }); // the server got a1 only
    const sm2 = new ServerStreamManagement(peer2, 1);
    sm2.autoAck = false;
    expect(resume.attrs).toMatchObject({ previd: 'sm-1', h: '1' });
    await established;
    // an app stanza sent right after resumption goes after the re-sent ones
    await xmpp.send(msg('new1'));
    const ids = peer2.received.filter((el) => el.name === 'message').map((el) => el.attrs.id);
    expect(ids).toEqual(['a2', 'a3', 'down1', 'new1']);
    expect(acked).toEqual(['a1']);
    expect(log.filter((l) => l.startsWith('retry') || l === 'resumed' || l === 'online')).toEqual(['online', 'retry:a2', 'retry:a3', 'retry:down1', 'resumed']);
    expect(statuses.at(-1)).toBe('online');
    expect(xmpp.status).toBe('online');
    sm2.ack();
    await expect(late).resolves.toBeUndefined();
    await vi.waitFor(() => expect(acked).toEqual(['a1', 'a2', 'a3', 'down1', 'new1']));
    await xmpp.stop();
  });

  it('with automatic reconnection: resumed, then reconnected({ resumed: true }), and no online event', async () => {
    const { server, xmpp, peer } = await online();
    const order: string[] = [];
    xmpp.on('online', () => order.push('online'));
    xmpp.streamManagement.on('resumed', () => order.push('resumed'));
    xmpp.reconnect.on('reconnected', (info) => order.push(`reconnected resumed=${info.resumed}`));
    peer.cut();
    const peer2 = await server.nextConnection();
    await resumeOn(peer2, { h: 0 });
    new ServerStreamManagement(peer2);
    await vi.waitFor(() => expect(order).toEqual(['resumed', 'reconnected resumed=true']));
    await xmpp.stop();
  });

  it('counts stanzas the server re-sends right after <resumed/>', async () => {
    const { server, xmpp, peer } = await online();
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await peer2.authenticate({ features: [xml('bind', NS_BIND), smFeature()] });
    await peer2.next('resume');
    peer2.sendRaw(`<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>`);
    peer2.sendRaw(`<message xmlns='jabber:client' from='a@localhost' id='q1'><body>queued</body></message>`);
    peer2.sendRaw(`<r xmlns='urn:xmpp:sm:3'/>`);
    await established;
    expect((await peer2.next('a')).attrs.h).toBe('1');
    await xmpp.stop();
  });

  it('failed resumption: applies <failed h/>, reports the rest, then binds a new session and goes online', async () => {
    const { server, xmpp, log, acked, failed, peer, sm } = await online();
    sm.autoAck = false;
    const pending = ['f1', 'f2', 'f3'].map((id) => xmpp.streamManagement.sendAcked(msg(id)));
    for (const p of pending) p.catch(() => undefined);
    await xmpp.send(xml('presence', { id: 'p1' }));
    await peer.next((el) => el.attrs.id === 'p1');
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found', h: 1 });
    await newSession(peer2);
    await established;
    expect(acked).toEqual(['f1']);
    expect(failed).toEqual([
      ['f2', 'resume-failed'],
      ['f3', 'resume-failed'],
      ['p1', 'resume-failed'],
    ]);
    await expect(pending[0]).resolves.toBeUndefined();
    await expect(pending[1]).rejects.toMatchObject({ condition: 'resume-failed', text: 'item-not-found' });
    expect(log).toContain('resumeFailed');
    expect(log.filter((l) => l === 'online')).toHaveLength(2);
    expect(xmpp.jid?.toString()).toBe('user@localhost/new');
    expect(xmpp.streamManagement.id).toBe('sm-2');
    await xmpp.stop();
  });

  it("resend: 'messages' re-sends messages with <delay/> and no stale from; IQs and presence are reported", async () => {
    const { server, xmpp, failed, peer, sm } = await online({ resend: 'messages' });
    sm.autoAck = false;
    const first = xmpp.streamManagement.sendAcked(xml('message', { to: 'f@localhost', id: 'rm1', from: 'user@localhost/res' }, xml('body', {}, 'hi')));
    await xmpp.send(xml('presence', { id: 'rp1' }));
    xmpp.iqCaller.request(xml('iq', { type: 'get', id: 'riq', to: 'localhost' }, xml('ping', 'urn:xmpp:ping'))).catch(() => undefined);
    await peer.next((el) => el.attrs.id === 'riq');
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found' });
    const sm2 = await newSession(peer2, true);
    await established;
    const resent = await peer2.next((el) => el.attrs.id === 'rm1');
    expect(resent.attrs.from).toBeUndefined();
    expect(resent.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(failed.map(([id]) => id).sort()).toEqual(['riq', 'rp1']);
    expect(peer2.received.find((el) => el.attrs.id === 'rp1' || el.attrs.id === 'riq')).toBeUndefined();
    sm2.ack();
    await expect(first).resolves.toBeUndefined();
    await xmpp.stop();
  });

  it("throwing resumeFailed and enabled listeners are reported as errors and keep no stanza from its outcome", async () => {
    const { server, xmpp, peer, sm } = await online({ resend: 'messages' });
    const errors: string[] = [];
    xmpp.on('error', (err) => errors.push(err.message));
    xmpp.streamManagement.on('resumeFailed', () => {
      throw new Error('resumeFailed listener bug');
    });
    xmpp.streamManagement.on('enabled', () => {
      throw new Error('enabled listener bug');
    });
    sm.autoAck = false;
    const kept = xmpp.streamManagement.sendAcked(xml('message', { to: 'f@localhost', id: 'km1' }, xml('body', {}, 'hi')));
    await peer.next((el) => el.attrs.id === 'km1');
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found' });
    const sm2 = await newSession(peer2, true);
    await established;
    await peer2.next((el) => el.attrs.id === 'km1');
    sm2.ack();
    await expect(kept).resolves.toBeUndefined();
    expect(errors).toEqual(['resumeFailed listener bug', 'enabled listener bug']);
    await xmpp.stop();
  });

  it('reconnects to <enabled location/> first, then falls back to the configured service', async () => {
    const { server, xmpp } = setup();
    const services: string[] = [];
    xmpp.on('connecting', (s) => services.push(s));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer, { id: 'sm-1', resume: 'true', location: 'node2.localhost:5299' });
    await started;
    peer.cut();
    const first = await server.nextConnection();
    first.cut(); // the preferred location does not work
    const second = await server.nextConnection();
    await resumeOn(second, { h: 0 });
    await vi.waitFor(() => expect(xmpp.status).toBe('online'));
    expect(services).toEqual(['memory://localhost', 'memory://node2.localhost:5299', 'memory://localhost']);
    await xmpp.stop();
  });

  it('ignores a conflict stream error on the superseded socket', async () => {
    const { server, xmpp, failed, peer } = await online();
    const errors: Error[] = [];
    xmpp.on('error', (e) => errors.push(e));
    // the client declares the link dead; the server still thinks the old socket is open
    xmpp.transport?.destroy();
    const peer2 = await server.nextConnection();
    await resumeOn(peer2, { h: 0 });
    await vi.waitFor(() => expect(xmpp.status).toBe('online'));
    peer.closed = false;
    peer.sendStreamError('conflict', 'Replaced by new connection');
    await tick();
    expect(errors).toEqual([]);
    expect(xmpp.status).toBe('online');
    expect(xmpp.streamManagement.canResume).toBe(true);
    expect(failed).toEqual([]);
    await xmpp.stop();
  });

  it('bounds the queue: past maxQueue, send() rejects with queue-full and nothing is lost silently', async () => {
    const { xmpp, failed, peer, sm } = await online({ maxQueue: 3 });
    sm.autoAck = false;
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    for (const id of ['q1', 'q2', 'q3']) await xmpp.send(msg(id));
    await expect(xmpp.send(msg('q4'))).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'queue-full' });
    await expect(xmpp.streamManagement.sendAcked(msg('q5'))).rejects.toMatchObject({ condition: 'queue-full' });
    expect(xmpp.streamManagement.unacknowledged.map((s) => s.attrs.id)).toEqual(['q1', 'q2', 'q3']);
    await xmpp.stop();
    expect(failed).toEqual([
      ['q1', 'stopped'],
      ['q2', 'stopped'],
      ['q3', 'stopped'],
    ]);
  });
});

describe('a full queue while the link is up (backpressure)', () => {
  it('send() waits for acks instead of rejecting, and everything goes out in order', async () => {
    const { xmpp, acked, peer, sm } = await online({ maxQueue: 3 });
    sm.autoAck = false;
    const sends = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((id) => xmpp.send(msg(id)));
    await Promise.all(sends.slice(0, 3));
    await tick();
    const written = () => peer.received.filter((el) => el.name === 'message').map((el) => el.attrs.id);
    expect(written()).toEqual(['b1', 'b2', 'b3']);
    expect(peer.received.some((el) => el.name === 'r')).toBe(true);
    sm.ack(); // h=3: room for three more
    await Promise.all(sends);
    expect(written()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    expect(acked).toEqual(['b1', 'b2', 'b3']);
    sm.ack();
    await vi.waitFor(() => expect(acked).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']));
    await xmpp.stop();
  });

  it('a burst many times the queue size flows at the pace of the acks, with no debounce stall', async () => {
    const { xmpp, acked } = await online({ maxQueue: 3, requestAckDebounce: 60_000 });
    const ids = Array.from({ length: 30 }, (_, i) => `f${i}`);
    const started = Date.now();
    await Promise.all(ids.map((id) => xmpp.send(msg(id))));
    xmpp.streamManagement.requestAck();
    await vi.waitFor(() => expect(acked).toEqual(ids), { timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(5000); // a stall would wait for the 60 s debounce
    await xmpp.stop();
  });

  it('a stanza sent while others wait for room queues behind them, even when an ack frees room first', async () => {
    const { xmpp, peer, sm } = await online({ maxQueue: 2 });
    sm.autoAck = false;
    const first = ['c1', 'c2', 'c3'].map((id) => xmpp.send(msg(id)));
    await tick();
    xmpp.streamManagement.once('ack', () => void xmpp.send(msg('c4')));
    sm.ack(); // frees two slots: c3 (waiting) must go before c4 (sent from the ack listener)
    await Promise.all(first);
    await vi.waitFor(() => expect(peer.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['c1', 'c2', 'c3', 'c4']));
    await xmpp.stop();
  });

  it('a send waiting for room when resumption fails with <failed h/> rejects, and nothing precedes <bind/>', async () => {
    const { server, xmpp, peer, sm } = await online({ maxQueue: 2 });
    sm.autoAck = false;
    const sends = ['w1', 'w2', 'w3'].map((id) => xmpp.send(msg(id)));
    for (const s of sends) s.catch(() => undefined);
    await peer.next((el) => el.attrs.id === 'w2');
    await tick();
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found', h: 2 }); // the <failed h/> frees room in the queue
    await expect(sends[2]).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'resume-failed' });
    const bind = await peer2.next((el) => el.name === 'iq');
    peer2.send(xml('iq', { type: 'result', id: bind.attrs.id }, xml('bind', NS_BIND, xml('jid', {}, 'user@localhost/new'))));
    await peer2.next('enable');
    peer2.send(xml('enabled', { xmlns: NS_SM, id: 'sm-2', resume: 'true' }));
    await established;
    await tick();
    const order = peer2.received.filter((el) => ['iq', 'message', 'enable'].includes(el.name)).map((el) => el.name);
    expect(order).toEqual(['iq', 'enable']);
    await xmpp.stop();
  });

  it('an ack that arrives after our closing tag lets no waiting send out (RFC 6120 section 4.4)', async () => {
    const { xmpp, peer, sm, failed } = await online({ maxQueue: 1 });
    sm.autoAck = false;
    peer.answerClose = false;
    const first = xmpp.send(msg('e1'));
    const waiting = xmpp.streamManagement.sendAcked(msg('e2'));
    await first;
    await tick();
    let afterClose = 0;
    peer.once('streamEnd', () => {
      peer.on('element', () => afterClose++);
      sm.ack(); // frees room for e2, after we closed the stream
      setTimeout(() => peer.closeStream(), 10);
    });
    const stopped = xmpp.stop();
    await expect(waiting).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'stopped' });
    await stopped;
    expect(afterClose).toBe(0);
    expect(peer.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['e1']);
    expect(failed).toEqual([]); // e1 was acknowledged by that <a/>
  });

  it('a full queue while a resumption is under way makes send() wait for it instead of rejecting', async () => {
    const { server, xmpp, peer, sm, acked } = await online({ maxQueue: 2 });
    sm.autoAck = false;
    for (const id of ['r1', 'r2']) await xmpp.send(msg(id));
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await peer2.authenticate({ features: [xml('bind', NS_BIND), smFeature()] });
    const resume = await peer2.next('resume');
    const third = xmpp.send(msg('r3')); // the link is up: the <resumed h/> will make room
    await tick();
    peer2.send(xml('resumed', { xmlns: NS_SM, h: 2, previd: resume.attrs.previd }));
    await established;
    await third;
    await peer2.next((el) => el.attrs.id === 'r3');
    expect(acked).toEqual(['r1', 'r2']);
    await xmpp.stop();
  });

  it('stop() while sends wait for room rejects them with stopped; they were never written', async () => {
    const { xmpp, peer, sm, failed } = await online({ maxQueue: 1 });
    sm.autoAck = false;
    const first = xmpp.send(msg('d1'));
    const waiting = xmpp.streamManagement.sendAcked(msg('d2'));
    await first;
    await tick();
    const stopped = xmpp.stop();
    await expect(waiting).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'stopped' });
    await stopped;
    expect(peer.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['d1']);
    expect(failed).toEqual([['d1', 'stopped']]);
  });
});

describe('closure and stream errors', () => {
  it('stop(): a final <a/> before the stream close, unacked stanzas reported, state dropped', async () => {
    const store = memoryStore();
    const { xmpp, failed, peer, sm } = await online({ store, saveDelay: 0 });
    sm.autoAck = false;
    peer.send(xml('message', { from: 'a@localhost' }));
    const pending = xmpp.streamManagement.sendAcked(msg('s1'));
    await peer.next((el) => el.attrs.id === 's1');
    await vi.waitFor(() => expect(store.state).not.toBeNull());
    const closing = new Promise<void>((resolve) => peer.once('streamEnd', resolve));
    await xmpp.stop();
    await closing;
    const last = peer.received.at(-1);
    expect(last?.name).toBe('a');
    expect(last?.attrs.h).toBe('1');
    await expect(pending).rejects.toMatchObject({ condition: 'stopped' });
    expect(failed).toEqual([['s1', 'stopped']]);
    expect(xmpp.streamManagement.canResume).toBe(false);
    expect(store.state).toBeNull();
  });

  it('a stream error from the server drops the session: reported, then a new session', async () => {
    const { server, xmpp, failed, log, peer, sm } = await online();
    sm.autoAck = false;
    await xmpp.send(msg('e1'));
    peer.sendStreamError('system-shutdown');
    await vi.waitFor(() => expect(failed).toEqual([['e1', 'stream-error']]));
    const peer2 = await server.nextConnection();
    await loginWithSM(peer2, { id: 'sm-2', resume: 'true' });
    await vi.waitFor(() => expect(xmpp.status).toBe('online'));
    expect(peer2.received.find((el) => el.name === 'resume')).toBeUndefined();
    expect(log.filter((l) => l === 'online')).toHaveLength(2);
    await xmpp.stop();
  });
});

describe('persistence', () => {
  it('a new client object with the same store resumes the session and re-sends what was never acknowledged', async () => {
    const store = memoryStore();
    const first = await online({ store, saveDelay: 0 });
    const { peer, sm } = first;
    sm.autoAck = false;
    await first.xmpp.send(msg('p1'));
    await first.xmpp.send(msg('p2'));
    peer.send(xml('message', { from: 'a@localhost' }));
    await vi.waitFor(() => expect(store.state?.unacked).toHaveLength(2));
    await vi.waitFor(() => expect(store.state?.inbound).toBe(1));
    // the process "dies": the object is abandoned without stop()
    first.xmpp.reconnect.stop();

    const second = setup({ store });
    const resumed = second.xmpp.start();
    const peer2 = await second.server.nextConnection();
    const resume = await resumeOn(peer2, { h: 1 });
    expect(resume.attrs).toMatchObject({ previd: 'sm-1', h: '1' });
    const jid = await resumed;
    expect(jid.toString()).toBe('user@localhost/res');
    expect(peer2.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['p2']);
    expect(second.log).toEqual(['retry:p2', 'resumed']);
    expect(second.acked).toEqual(['p1']);
    expect(peer2.received.find((el) => el.name === 'iq')).toBeUndefined(); // no bind
    await second.xmpp.stop();
  });

  it('coalesces store writes: a burst of stanzas is not a write per stanza', async () => {
    const saves: number[] = [];
    const backing = memoryStore();
    const store: StreamManagementStore = { load: backing.load, save: (s) => void saves.push(s.unacked.length), clear: backing.clear };
    vi.useFakeTimers();
    const { xmpp, sm } = await online({ store, saveDelay: 50 });
    sm.autoAck = false;
    await vi.advanceTimersByTimeAsync(60);
    saves.length = 0;
    for (let i = 0; i < 100; i++) await xmpp.send(msg(`c${i}`));
    await vi.advanceTimersByTimeAsync(60);
    expect(saves.length).toBeLessThanOrEqual(2);
    expect(saves.at(-1)).toBe(100);
    vi.useRealTimers();
    await xmpp.stop();
  });

  it('a start() that fails keeps the stored session for the next start(); stop() forgets it', async () => {
    const store = memoryStore();
    const first = await online({ store, saveDelay: 0 });
    const { sm } = first;
    sm.autoAck = false;
    await first.xmpp.send(msg('kept'));
    await vi.waitFor(() => expect(store.state?.unacked).toHaveLength(1));
    first.xmpp.reconnect.stop();

    const second = setup({ store });
    second.server.refuse = true;
    await expect(second.xmpp.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(second.failed).toEqual([]);
    expect(store.state?.unacked).toHaveLength(1);
    second.server.refuse = false;
    const again = second.xmpp.start();
    await resumeOn(await second.server.nextConnection(), { h: 0 });
    await again;
    expect(second.log).toEqual(['retry:kept', 'resumed']);
    second.xmpp.reconnect.stop();
    second.server.connections.at(-1)?.cut();
    await vi.waitFor(() => expect(second.xmpp.status).toBe('disconnect'));
    await second.xmpp.stop();
    expect(second.failed).toEqual([['kept', 'stopped']]);
    expect(store.state).toBeNull();
  });

  it('ignores stored state of another account', async () => {
    const store = memoryStore();
    store.save({ version: 1, id: 'x', jid: 'mallory@localhost/r', service: null, location: null, max: null, inbound: 0, acked: 0, unacked: [], savedAt: 0 });
    const { server, xmpp } = setup({ store });
    const warnings: Error[] = [];
    xmpp.streamManagement.on('warning', (w) => warnings.push(w));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer);
    await started;
    expect(peer.received.find((el) => el.name === 'resume')).toBeUndefined();
    expect(warnings[0]?.message).toMatch(/not this account/);
    await xmpp.stop();
  });
});

describe('persistence: unusable stored state', () => {
  it('ignores a stored session whose JID does not parse, with a warning', async () => {
    const store = memoryStore();
    store.save({ version: 1, id: 'x', jid: 'user@localhost/', service: null, location: null, max: null, inbound: 0, acked: 0, unacked: [], savedAt: 0 });
    const { server, xmpp } = setup({ store });
    const warnings: Error[] = [];
    xmpp.streamManagement.on('warning', (w) => warnings.push(w));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer);
    await started;
    expect(peer.received.find((el) => el.name === 'resume')).toBeUndefined();
    expect(warnings.map((w) => w.name)).toEqual(['InvalidJIDError']);
    await xmpp.stop();
  });
});

describe('a server that stops offering stream management', () => {
  it('while a session waits for resumption: reported as resume-failed, then a new session binds', async () => {
    const { server, xmpp, failed, log, peer, sm } = await online();
    sm.autoAck = false;
    await xmpp.send(msg('orphan'));
    peer.cut();
    const peer2 = await server.nextConnection();
    await peer2.login({ jid: 'user@localhost/new' }); // no <sm/> this time
    await vi.waitFor(() => expect(log.filter((l) => l === 'online')).toHaveLength(2));
    expect(failed).toEqual([['orphan', 'resume-failed']]);
    expect(xmpp.streamManagement.enabled).toBe(false);
    await xmpp.stop();
  });
});

describe('robustness', () => {
  it('a throwing application listener neither ends the stream nor corrupts the ledger', async () => {
    const { server, xmpp, acked, failed } = setup();
    const errors: Error[] = [];
    xmpp.on('error', (e) => errors.push(e));
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const { sm } = await loginWithSM(peer);
    await started;
    sm.autoAck = false;
    xmpp.on('stanza', () => {
      throw new TypeError('app bug in a stanza listener');
    });
    let once = true;
    xmpp.streamManagement.on('ack', () => {
      if (once) {
        once = false;
        throw new TypeError('app bug in an ack listener');
      }
    });
    for (const id of ['m1', 'm2', 'm3']) await xmpp.send(msg(id));
    peer.send(xml('message', { from: 'a@localhost' }));
    sm.ack(3);
    await vi.waitFor(() => expect(acked).toEqual(['m1', 'm2', 'm3']));
    expect(failed).toEqual([]);
    expect(xmpp.status).toBe('online');
    expect(xmpp.streamManagement.inbound).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['app bug in a stanza listener', 'app bug in an ack listener']);
    expect(peer.received.find((el) => el.name === 'stream:error')).toBeUndefined();
    await xmpp.stop();
  });

  it('a reconnection attempt that fails (redirect, stream error) keeps the session resumable', async () => {
    const { server, xmpp, failed, log, peer, sm } = await online();
    sm.autoAck = false;
    await xmpp.send(msg('kept'));
    peer.cut();
    const bad = await server.nextConnection();
    await bad.nextHeader();
    bad.sendHeader();
    bad.sendStreamError('internal-server-error');
    bad.closeStream();
    const good = await server.nextConnection();
    await resumeOn(good, { h: 0 });
    await vi.waitFor(() => expect(log).toContain('resumed'));
    expect(failed).toEqual([]);
    expect(good.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['kept']);
    await xmpp.stop();
  });

  it('stop() during a reconnection attempt ends offline, even with another service to try', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer, { id: 'sm-1', resume: 'true', location: 'node2.localhost:5299' });
    await started;
    peer.cut();
    const attempt = await server.nextConnection(); // node2, which never answers
    await attempt.nextHeader();
    await xmpp.stop();
    await tick();
    await tick();
    expect(xmpp.status).toBe('offline');
    expect(server.connections).toHaveLength(2);
  });

  it('a clear() is never overtaken by an earlier, slower save()', async () => {
    let stored: unknown = null;
    const store: StreamManagementStore = {
      load: () => null,
      save: (state) => new Promise<void>((resolve) => setTimeout(() => ((stored = state), resolve()), 20)),
      clear: () => {
        stored = null;
      },
    };
    const { xmpp, sm } = await online({ store, saveDelay: 0 });
    sm.autoAck = false;
    await xmpp.send(msg('s1'));
    await new Promise((r) => setTimeout(r, 5));
    await xmpp.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(stored).toBeNull();
  });

  it('after a failed resumption, stanzas sent before the new session is ready wait for it, behind re-sent messages', async () => {
    const { server, xmpp, peer, sm } = await online({ resend: 'messages' });
    sm.autoAck = false;
    await xmpp.send(msg('old'));
    xmpp.streamManagement.on('resumeFailed', () => void xmpp.send(xml('presence', { id: 'fresh-presence' })));
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found' });
    await newSession(peer2);
    await established;
    await peer2.next((el) => el.attrs.id === 'fresh-presence');
    const order = peer2.received.filter((el) => ['iq', 'message', 'presence', 'enable'].includes(el.name)).map((el) => el.attrs.id ?? el.name);
    expect(order.slice(1)).toEqual(['enable', 'old', 'fresh-presence']);
    expect(peer2.received[peer2.received.findIndex((el) => el.name === 'iq')]?.getChild('bind')).toBeDefined();
    expect(xmpp.streamManagement.unacknowledged.map((s) => s.attrs.id)).toEqual(['old', 'fresh-presence']);
    await xmpp.stop();
  });
});

describe('held and re-sent stanzas at the edges', () => {
  it('with an outgoing filter, re-sent messages still go first and are not filtered a second time', async () => {
    const { server, xmpp, peer, sm } = await online({ resend: 'messages' });
    const filtered: string[] = [];
    xmpp.middleware.filter((ctx, next) => {
      filtered.push(ctx.stanza.attrs.id ?? ctx.stanza.name);
      return next();
    });
    sm.autoAck = false;
    await xmpp.send(msg('old'));
    xmpp.streamManagement.on('resumeFailed', () => void xmpp.send(xml('presence', { id: 'fresh-presence' })));
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found' });
    await newSession(peer2);
    await established;
    await peer2.next((el) => el.attrs.id === 'fresh-presence');
    const order = peer2.received.filter((el) => el.name === 'message' || el.name === 'presence').map((el) => el.attrs.id);
    expect(order).toEqual(['old', 'fresh-presence']);
    expect(filtered.filter((id) => id === 'old')).toHaveLength(1);
    await xmpp.stop();
  });

  it('a stanza sent from a retry listener goes out after every re-sent stanza', async () => {
    const { server, xmpp, peer, sm } = await online();
    sm.autoAck = false;
    for (const id of ['r1', 'r2']) await xmpp.send(msg(id));
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    let first = true;
    xmpp.streamManagement.on('retry', () => {
      if (first) void xmpp.send(msg('from-listener'));
      first = false;
    });
    const established = xmpp.establish();
    const peer2 = await server.nextConnection();
    await resumeOn(peer2, { h: 0 });
    new ServerStreamManagement(peer2);
    await established;
    await tick();
    expect(peer2.received.filter((el) => el.name === 'message').map((el) => el.attrs.id)).toEqual(['r1', 'r2', 'from-listener']);
    expect(xmpp.streamManagement.outbound).toBe(3);
    await xmpp.stop();
  });

  it('a stanza held for the new session rejects with not-resumable when the link drops before that session is ready', async () => {
    const { server, xmpp, failed, peer, sm } = await online();
    sm.autoAck = false;
    await xmpp.send(msg('old'));
    let held: Promise<void> | undefined;
    xmpp.streamManagement.on('resumeFailed', () => {
      held = xmpp.send(msg('held'));
      held.catch(() => undefined);
    });
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    xmpp.establish().catch(() => undefined);
    const peer2 = await server.nextConnection();
    await resumeOn(peer2, { failed: 'item-not-found' });
    await peer2.next((el) => el.name === 'iq'); // the new session's <bind/>
    peer2.cut();
    await expect(held).rejects.toMatchObject({ name: 'StreamManagementError', condition: 'not-resumable' });
    expect(failed).toEqual([['old', 'resume-failed']]);
    expect(peer2.received.find((el) => el.attrs.id === 'held')).toBeUndefined();
    await xmpp.stop();
  });

  it("resend: 'messages' when the new session refuses <enable/>: kept messages fail with not-enabled, held stanzas go out untracked", async () => {
    const { server, xmpp, failed, peer, sm } = await online({ resend: 'messages' });
    sm.autoAck = false;
    const kept = xmpp.streamManagement.sendAcked(msg('kept'));
    kept.catch(() => undefined);
    await peer.next((el) => el.attrs.id === 'kept');
    xmpp.streamManagement.on('resumeFailed', () => void xmpp.send(xml('presence', { id: 'held' })));
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found' });
    await peer2.bind('user@localhost/new');
    await peer2.next('enable');
    peer2.send(xml('failed', NS_SM, xml('feature-not-implemented', 'urn:ietf:params:xml:ns:xmpp-stanzas')));
    await established;
    await peer2.next((el) => el.attrs.id === 'held');
    await expect(kept).rejects.toMatchObject({ condition: 'not-enabled' });
    expect(failed).toEqual([['kept', 'not-enabled']]);
    expect(peer2.received.find((el) => el.attrs.id === 'kept')).toBeUndefined();
    expect(xmpp.streamManagement.unacknowledged).toEqual([]);
    await xmpp.stop();
  });
});

describe('IQ requests across a resumption', () => {
  const ping = () => xml('ping', 'urn:xmpp:ping');

  it('a request in flight when the link drops gets its reply on the resumed session', async () => {
    const { server, xmpp, peer } = await online();
    const reply = xmpp.iqCaller.get(ping());
    const request = await peer.next('iq');
    xmpp.reconnect.stop();
    peer.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    await tick();
    expect(xmpp.iqCaller.pending).toBe(1);
    const established = xmpp.establish();
    const peer2 = await server.nextConnection();
    await resumeOn(peer2, { h: 1 });
    new ServerStreamManagement(peer2, 1);
    await established;
    peer2.send(xml('iq', { type: 'result', id: request.attrs.id, from: 'localhost' }));
    await expect(reply).resolves.toBeUndefined();
    await xmpp.stop();
  });

  it('rejects at once when the session cannot be resumed', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await loginWithSM(peer, { id: 'no-resume' });
    await started;
    const reply = xmpp.iqCaller.get(ping());
    await peer.next('iq');
    xmpp.reconnect.stop();
    peer.cut();
    await expect(reply).rejects.toMatchObject({ name: 'ConnectionError', condition: 'disconnected' });
  });

  it('rejects when the resumption fails, and on stop() while hibernating', async () => {
    const { server, xmpp, peer } = await online();
    const first = xmpp.iqCaller.get(ping());
    first.catch(() => undefined);
    await peer.next('iq');
    const { established, peer2 } = await cutAndReconnect(server, xmpp, peer);
    await resumeOn(peer2, { failed: 'item-not-found', h: 1 });
    await expect(first).rejects.toMatchObject({ name: 'ConnectionError', condition: 'disconnected', text: expect.stringMatching(/could not be resumed/) });
    await peer2.next((el) => el.name === 'iq' && el.getChild('bind') !== undefined).then((iq) => peer2.send(xml('iq', { type: 'result', id: iq.attrs.id }, xml('bind', NS_BIND, xml('jid', {}, 'user@localhost/new')))));
    await peer2.next('enable');
    peer2.send(xml('enabled', { xmlns: NS_SM, id: 'sm-2', resume: 'true' }));
    new ServerStreamManagement(peer2);
    await established;

    const second = xmpp.iqCaller.get(ping());
    second.catch(() => undefined);
    await peer2.next((el) => el.name === 'iq' && el.getChild('ping') !== undefined);
    peer2.cut();
    await vi.waitFor(() => expect(xmpp.status).toBe('disconnect'), { timeout: 5000 });
    await tick();
    expect(xmpp.iqCaller.pending).toBe(1);
    await xmpp.stop();
    await expect(second).rejects.toMatchObject({ name: 'ConnectionError', condition: 'disconnected', text: expect.stringMatching(/stopped/) });
  });
});
