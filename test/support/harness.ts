/**
 * What the stream management integration tests share: clients that reach a real server through
 * a fresh FaultProxy per test, a receiver connected directly, an event log, and small waits.
 */
import { afterEach, beforeEach } from 'vitest';
import { client, xml, type Element, type XMPPClient } from '@xmppkit/client';
import { FaultProxy } from './fault-proxy.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` every 10 ms; throw after `ms`. */
export async function until(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A chat message whose id and body are both `body`. */
export const message = (to: string, body: string): Element => xml('message', { to, type: 'chat', id: body }, xml('body', {}, body));

/** Record online/resumed/resumeFailed/fail/ack as strings; `failed` keeps the `<failed/>` elements. */
export function events(xmpp: XMPPClient): string[] & { failed: Element[] } {
  const log: string[] = [];
  const failed: Element[] = [];
  xmpp.on('online', () => log.push('online'));
  xmpp.streamManagement.on('resumed', () => log.push('resumed'));
  xmpp.streamManagement.on('resumeFailed', (e) => {
    log.push(`resumeFailed:${e.text}`);
    if (e.element) failed.push(e.element as Element);
  });
  xmpp.streamManagement.on('fail', (s, e) => log.push(`fail:${s.attrs.id}:${e.condition}`));
  xmpp.streamManagement.on('ack', (s) => log.push(`ack:${s.attrs.id ?? s.name}`));
  return Object.assign(log, { failed });
}

export interface ServerInfo {
  service: string;
  domain: string;
  httpPort: number;
  accounts: Record<string, string>;
}

type Options = Partial<Parameters<typeof client>[0]>;

/** Register per-test hooks (a new proxy before, every client stopped and the proxy closed after). */
export function useProxiedClients(server: ServerInfo) {
  const clients: XMPPClient[] = [];
  let proxy: FaultProxy | null = null;

  beforeEach(async () => {
    proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.httpPort } });
    await proxy.start();
  });

  afterEach(async () => {
    proxy?.refuse(false);
    proxy?.blackhole(false);
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    await proxy?.close();
  });

  const harness = {
    get proxy(): FaultProxy {
      if (!proxy) throw new Error('the proxy exists only inside a test');
      return proxy;
    },
    /** A client through the fault proxy (unless `service` says otherwise), reconnecting fast. */
    make(username: string, options: Options = {}): XMPPClient {
      const xmpp = client({
        service: harness.proxy.url(),
        domain: server.domain,
        username,
        password: server.accounts[username],
        reconnect: { initialDelay: 50 },
        ...options,
      });
      xmpp.on('error', () => undefined);
      clients.push(xmpp);
      return xmpp;
    },
    /** Bob, connected directly (not through the proxy), recording every message body he receives. */
    async receiver(resource = 'r') {
      const bob = harness.make('bob', { service: server.service, resource });
      const received: string[] = [];
      bob.on('stanza', (s: Element) => {
        if (s.is('message') && s.getChildText('body')) received.push(s.getChildText('body') as string);
      });
      await bob.start();
      return { bob, received, jid: `bob@${server.domain}/${resource}` };
    },
  };
  return harness;
}
