/**
 * The browser bundle (packages/client/dist/xmppkit.min.js) in real headless Chromium (Debian's package,
 * driven by playwright-core), against the private Prosody over ws://.
 */
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { prosody } from '../setup/servers.js';

const server = prosody();
const { open } = useBrowser();

const options = (username: string, resource: string) => ({
  service: server.service,
  domain: server.domain,
  username,
  password: server.accounts[username],
  resource,
});

describe('the browser bundle in Chromium', () => {
  it('loads with no console error, exposes globalThis.xmppkit, and needs no process global', async () => {
    const { page, errors } = await open();
    const info = await page.evaluate(() => {
      const kit = (globalThis as unknown as { xmppkit: Record<string, unknown> }).xmppkit;
      return { keys: Object.keys(kit).sort(), process: typeof (globalThis as { process?: unknown }).process };
    });
    expect(info.process).toBe('undefined');
    expect(info.keys).toEqual(expect.arrayContaining(['client', 'xml', 'jid', 'webStorageStore', 'memoryStore', 'StreamManagementError']));
    expect(errors).toEqual([]);
  });

  it('logs in with SCRAM-SHA-1 on WebCrypto and enables stream management', async () => {
    const { page, errors } = await open();
    const result = await page.evaluate(async (opts) => {
      const { client } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
      const xmpp = client(opts);
      const jid = await xmpp.start();
      const out = { jid: jid.toString(), mechanism: xmpp.sasl.mechanism, sm: xmpp.streamManagement.enabled };
      await xmpp.stop();
      return out;
    }, options('alice', 'chromium'));
    expect(result).toEqual({ jid: 'alice@localhost/chromium', mechanism: 'SCRAM-SHA-1', sm: true });
    expect(errors).toEqual([]);
  });

  it('delivers a message between two browser clients, and sendAcked resolves', async () => {
    const bobPage = (await open()).page;
    const alicePage = (await open()).page;
    await bobPage.evaluate(async (opts) => {
      const { client } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
      const xmpp = client(opts);
      const g = globalThis as unknown as { received: Promise<string>; bob: unknown };
      g.received = new Promise((resolve) => xmpp.on('stanza', (s) => s.is('message') && resolve(s.getChildText('body') ?? '')));
      g.bob = xmpp;
      await xmpp.start();
    }, options('bob', 'chromium'));
    const acked = await alicePage.evaluate(async (opts) => {
      const { client, xml } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
      const xmpp = client(opts);
      await xmpp.start();
      await xmpp.streamManagement.sendAcked(xml('message', { to: 'bob@localhost/chromium', type: 'chat' }, xml('body', {}, 'hello from Chromium')));
      await xmpp.stop();
      return true;
    }, options('alice', 'chromium-2'));
    expect(acked).toBe(true);
    const body = await bobPage.evaluate(async () => {
      const g = globalThis as unknown as { received: Promise<string>; bob: { stop(): Promise<void> } };
      const text = await g.received;
      await g.bob.stop();
      return text;
    });
    expect(body).toBe('hello from Chromium');
  });

  it('debug logging works with no process global and never shows the password', async () => {
    const { page, console: log } = await open();
    await page.evaluate(async (opts) => {
      const { client } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
      const xmpp = client({ ...opts, debug: true, sasl: { mechanisms: ['PLAIN'] } });
      await xmpp.start();
      await xmpp.stop();
    }, options('carol', 'debug'));
    const text = log.join('\n');
    expect(text).toContain('OUT');
    expect(text).toContain('status online');
    expect(text).toContain('<hidden xmlns="xmppkit"/>');
    expect(text).not.toContain(server.accounts.carol);
    expect(text).not.toContain(Buffer.from(`\0carol\0${server.accounts.carol}`).toString('base64'));
  });

  it('a page reload with a sessionStorage store resumes the same session and re-sends what was unacknowledged', async () => {
    const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.httpPort } });
    await proxy.start();
    try {
      const bobPage = (await open()).page;
      await bobPage.evaluate(async (opts) => {
        const { client } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = client(opts);
        const g = globalThis as unknown as { bodies: string[]; bob: unknown };
        g.bodies = [];
        xmpp.on('stanza', (s) => s.is('message') && g.bodies.push(s.getChildText('body') ?? ''));
        g.bob = xmpp;
        await xmpp.start();
      }, options('bob', 'reload'));

      const { page } = await open();
      const opts = { ...options('alice', 'reload'), service: proxy.url() };
      const before = await page.evaluate(async (o) => {
        const { client, webStorageStore } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = client({ ...o, streamManagement: { store: webStorageStore(sessionStorage), saveDelay: 0 } });
        await xmpp.start();
        (globalThis as unknown as { alice: unknown }).alice = xmpp;
        return xmpp.streamManagement.id;
      }, opts);
      proxy.blackhole(); // what alice sends now never reaches the server
      await page.evaluate(async () => {
        const { xml } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = (globalThis as unknown as { alice: import('@xmppkit/client').XMPPClient }).alice;
        await xmpp.send(xml('message', { to: 'bob@localhost/reload', type: 'chat', id: 'before-reload' }, xml('body', {}, 'sent before the reload')));
        await new Promise((resolve) => setTimeout(resolve, 100));
      });
      const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('xmppkit:sm') ?? 'null'));
      expect(stored?.unacked).toHaveLength(1);

      await page.reload();
      proxy.blackhole(false);
      proxy.cut(); // the old socket is gone for the server too

      const after = await page.evaluate(async (o) => {
        const { client, webStorageStore } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = client({ ...o, streamManagement: { store: webStorageStore(sessionStorage) } });
        const events: string[] = [];
        xmpp.on('online', () => events.push('online'));
        xmpp.streamManagement.on('resumed', () => events.push('resumed'));
        xmpp.streamManagement.on('retry', (s) => events.push(`retry:${s.attrs.id}`));
        const acked = new Promise<void>((resolve) => xmpp.streamManagement.on('ack', (s) => s.attrs.id === 'before-reload' && resolve()));
        const jid = await xmpp.start();
        await acked;
        const id = xmpp.streamManagement.id;
        await xmpp.stop();
        return { jid: jid.toString(), id, events };
      }, opts);
      expect(after.id).toBe(before);
      expect(after.jid).toBe('alice@localhost/reload');
      expect(after.events).toEqual(['retry:before-reload', 'resumed']);

      const bodies = await bobPage.evaluate(async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const g = globalThis as unknown as { bodies: string[]; bob: { stop(): Promise<void> } };
        await g.bob.stop();
        return g.bodies;
      });
      expect(bodies.filter((b) => b === 'sent before the reload')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('a cut through the fault proxy resumes; going offline pauses reconnection and coming back online resumes at once', async () => {
    const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.httpPort } });
    await proxy.start();
    try {
      const { page } = await open();
      await page.evaluate(async (o) => {
        const { client } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = client({ ...o, reconnect: { initialDelay: 100 } });
        const g = globalThis as unknown as { alice: unknown; events: string[] };
        g.events = [];
        xmpp.streamManagement.on('resumed', () => g.events.push('resumed'));
        xmpp.on('online', () => g.events.push('online'));
        xmpp.reconnect.on('reconnecting', (n, delay) => g.events.push(delay < 0 ? 'waiting-for-network' : 'reconnecting'));
        g.alice = xmpp;
        await xmpp.start();
      }, { ...options('alice', 'offline'), service: proxy.url() });
      const events = () => page.evaluate(() => (globalThis as unknown as { events: string[] }).events);

      proxy.cut();
      await page.waitForFunction(() => (globalThis as unknown as { events: string[] }).events.includes('resumed'));
      expect(await events()).toEqual(['online', 'reconnecting', 'resumed']);

      await page.context().setOffline(true);
      proxy.cut();
      await page.waitForFunction(() => (globalThis as unknown as { events: string[] }).events.includes('waiting-for-network'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const accepted = proxy.accepted;
      expect(await events()).toEqual(['online', 'reconnecting', 'resumed', 'waiting-for-network']); // no attempt while offline
      await page.context().setOffline(false);
      await page.waitForFunction(() => (globalThis as unknown as { events: string[] }).events.filter((e) => e === 'resumed').length === 2);
      expect(proxy.accepted).toBe(accepted + 1);
      await page.evaluate(() => (globalThis as unknown as { alice: { stop(): Promise<void> } }).alice.stop());
    } finally {
      await proxy.close();
    }
  });
});
