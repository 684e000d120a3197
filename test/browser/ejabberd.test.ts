/**
 * The browser bundle (packages/client/dist/xmppkit.min.js) in real headless Chromium against ejabberd 23.01
 * (the private node of scripts/ejabberd.sh) over ws://: every frame ejabberd sends is parsed by the
 * browser's DOMParser (packages/xml/src/parseDOM.ts), not by the streaming parser Node uses.
 * Each page counts the frames DOMParser parsed and keeps any it refused, and records the client's errors.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { useBrowser, type OpenedPage } from '../support/browser.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { ejabberd } from '../setup/servers.js';

type Kit = typeof import('@xmppkit/client');
/** What instrument() keeps in the page. */
type Watch = { parsed: number; refused: string[]; errors: string[] };

const server = ejabberd();
const { open } = useBrowser({ title: 'ejabberd' });
const opened: OpenedPage[] = [];
const proxies: FaultProxy[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  // Every page of the test: no console error, no page error, and nothing DOMParser refused.
  for (const { page, errors } of opened.splice(0)) {
    const watch = await page.evaluate(() => (globalThis as unknown as { watch: Watch }).watch);
    expect(watch.refused, 'frames from ejabberd that DOMParser refused').toEqual([]);
    expect(errors, 'console and page errors').toEqual([]);
    await page.close();
  }
});

/**
 * A page with the bundle, whose DOMParser.parseFromString counts the frames it parses (the browser
 * parse() wraps each one as `<w><x/>FRAME</w>`) and keeps every non-blank frame it refuses.
 */
async function instrumented(): Promise<Page> {
  const p = await open();
  opened.push(p);
  await p.page.evaluate(() => {
    const watch: Watch = { parsed: 0, refused: [], errors: [] };
    (globalThis as unknown as { watch: Watch }).watch = watch;
    const original = DOMParser.prototype.parseFromString;
    DOMParser.prototype.parseFromString = function (this: DOMParser, ...args: Parameters<DOMParser['parseFromString']>) {
      const doc = original.apply(this, args);
      const [text] = args;
      if (text.startsWith('<w><x/>')) {
        watch.parsed++;
        const frame = text.slice('<w><x/>'.length, -'</w>'.length);
        if (doc.documentElement.firstChild?.nodeName !== 'x' && /[^ \t\r\n]/.test(frame)) watch.refused.push(frame);
      }
      return doc;
    };
  });
  return p.page;
}

const options = (username: string, resource: string, service = server.service) => ({
  service,
  domain: server.domain,
  username,
  password: server.accounts[username],
  resource,
});

/** In the page: a client as `globalThis.xmpp`, its errors in `watch.errors`, the bodies of the messages it receives in `bodies`. */
async function startClient(page: Page, opts: ReturnType<typeof options> & { reconnect?: { initialDelay: number } }): Promise<string> {
  return page.evaluate(async (o) => {
    const { client } = (globalThis as unknown as { xmppkit: Kit }).xmppkit;
    const g = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient; watch: Watch; bodies: string[]; events: string[] };
    const xmpp = client(o);
    g.xmpp = xmpp;
    g.bodies = [];
    g.events = [];
    xmpp.on('error', (err) => g.watch.errors.push(`${err.name}: ${err.message}`));
    xmpp.on('stanza', (s) => {
      if (s.is('message') && s.getChildText('body')) g.bodies.push(s.getChildText('body') as string);
    });
    xmpp.on('online', () => g.events.push('online'));
    xmpp.streamManagement.on('resumed', () => g.events.push('resumed'));
    xmpp.streamManagement.on('resumeFailed', (e) => g.events.push(`resumeFailed:${e.text}`));
    xmpp.streamManagement.on('fail', (s, e) => g.events.push(`fail:${s.attrs.id}:${e.condition}`));
    xmpp.streamManagement.on('ack', (s) => g.events.push(`ack:${s.attrs.id ?? s.name}`));
    return (await xmpp.start()).toString();
  }, opts);
}

const stop = (page: Page) => page.evaluate(() => (globalThis as unknown as { xmpp: { stop(): Promise<void> } }).xmpp.stop());
const watched = (page: Page) => page.evaluate(() => (globalThis as unknown as { watch: Watch }).watch);
const bodies = (page: Page) => page.evaluate(() => (globalThis as unknown as { bodies: string[] }).bodies);

describe(`the browser bundle in Chromium against ejabberd ${server.version}`, () => {
  it('logs in with SCRAM-SHA-1 on WebCrypto and enables resumable stream management; DOMParser parses every frame', async () => {
    const page = await instrumented();
    const jid = await startClient(page, options('alice', 'chromium'));
    const sm = await page.evaluate(() => {
      const { xmpp } = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient };
      return { mechanism: xmpp.sasl.mechanism, enabled: xmpp.streamManagement.enabled, canResume: xmpp.streamManagement.canResume, id: xmpp.streamManagement.id, max: xmpp.streamManagement.max };
    });
    // before online: <open/>, features, SASL challenge and success, <open/>, features, the bind result, <enabled/>
    const watch = await watched(page);
    await stop(page);
    expect(watch.parsed).toBeGreaterThanOrEqual(8);
    expect(watch.errors).toEqual([]);
    expect(jid).toBe(`alice@${server.domain}/chromium`);
    expect(sm.mechanism).toBe('SCRAM-SHA-1');
    expect(sm.enabled).toBe(true);
    expect(sm.canResume).toBe(true);
    expect(sm.id).toMatch(/^[A-Za-z0-9+/]{16,}={0,2}$/);
    expect(sm.max).toBe(server.resumeTimeout);
  });

  it('delivers a message between two browser clients, and sendAcked resolves', async () => {
    const bobPage = await instrumented();
    const alicePage = await instrumented();
    const bob = await startClient(bobPage, options('bob', 'chromium'));
    await startClient(alicePage, options('alice', 'chromium-2'));
    const acked = await alicePage.evaluate(async (to) => {
      const { xml } = (globalThis as unknown as { xmppkit: Kit }).xmppkit;
      const { xmpp } = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient };
      await xmpp.streamManagement.sendAcked(xml('message', { to, type: 'chat', id: 'hello-1' }, xml('body', {}, 'hello from Chromium — <ejabberd> & "😀"')));
      return (globalThis as unknown as { events: string[] }).events;
    }, bob);
    expect(acked.filter((e) => !e.startsWith('ack:'))).toEqual(['online']);
    expect(acked).toContain('ack:hello-1');
    await bobPage.waitForFunction(() => (globalThis as unknown as { bodies: string[] }).bodies.length > 0);
    expect(await bodies(bobPage)).toEqual(['hello from Chromium — <ejabberd> & "😀"']);
    await stop(alicePage);
    await stop(bobPage);
    for (const page of [alicePage, bobPage]) expect((await watched(page)).errors).toEqual([]);
  });

  it('a cut through the fault proxy resumes the same session; a stanza sent while cut is acknowledged and delivered exactly once', async () => {
    const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.httpPort } });
    proxies.push(proxy);
    await proxy.start();
    const bobPage = await instrumented();
    const bob = await startClient(bobPage, options('bob', 'cut'));
    const page = await instrumented();
    const jid = await startClient(page, { ...options('alice', 'cut', proxy.url()), reconnect: { initialDelay: 100 } });
    const before = await page.evaluate(() => (globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient }).xmpp.streamManagement.id);
    expect(proxy.accepted).toBe(1);

    proxy.blackhole(); // what alice sends now never reaches ejabberd
    await page.evaluate((to) => {
      const { xml } = (globalThis as unknown as { xmppkit: Kit }).xmppkit;
      const g = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient; acked: Promise<string> };
      g.acked = g.xmpp.streamManagement.sendAcked(xml('message', { to, type: 'chat', id: 'stuck-1' }, xml('body', {}, 'stuck-1'))).then(
        () => 'acked',
        (err: Error) => `rejected: ${err.message}`,
      );
    }, bob);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await bodies(bobPage)).toEqual([]); // stuck in the proxy
    expect(proxy.dropped).toBeGreaterThan(0);

    proxy.blackhole(false);
    proxy.cut();
    const after = await page.evaluate(async () => {
      const g = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient; acked: Promise<string>; events: string[] };
      const acked = await g.acked;
      return { acked, events: [...g.events], id: g.xmpp.streamManagement.id, jid: g.xmpp.jid?.toString(), status: g.xmpp.status };
    });
    expect(after).toEqual({ acked: 'acked', events: ['online', 'resumed', 'ack:stuck-1'], id: before, jid, status: 'online' });
    expect(proxy.accepted).toBe(2); // one reconnection, which resumed

    await bobPage.waitForFunction(() => (globalThis as unknown as { bodies: string[] }).bodies.includes('stuck-1'));
    // the resumed session works both ways
    await page.evaluate(async (to) => {
      const { xml } = (globalThis as unknown as { xmppkit: Kit }).xmppkit;
      const { xmpp } = globalThis as unknown as { xmpp: import('@xmppkit/client').XMPPClient };
      await xmpp.streamManagement.sendAcked(xml('message', { to, type: 'chat', id: 'after-1' }, xml('body', {}, 'after-1')));
    }, bob);
    await bobPage.waitForFunction(() => (globalThis as unknown as { bodies: string[] }).bodies.includes('after-1'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await bodies(bobPage)).toEqual(['stuck-1', 'after-1']); // each exactly once
    await stop(page);
    await stop(bobPage);
    expect((await watched(page)).errors.filter((e) => /StreamError|XMLError|bad-format|restricted-xml|policy-violation/.test(e))).toEqual([]);
    expect((await watched(bobPage)).errors).toEqual([]);
  });
});
