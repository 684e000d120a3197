import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { xml } from '@xmppkit/client';
import { fileStore } from '@xmppkit/stream-management/file-store';
import { events, message, sleep, until, useProxiedClients } from '../support/harness.js';
import { prosody } from '../setup/servers.js';

const server = prosody();
const root = fileURLToPath(new URL('../../', import.meta.url));
const h = useProxiedClients(server);
const { make, receiver } = h;

describe('stream management against Prosody, through the fault proxy', () => {
  it('cut: the session resumes, the stuck stanza is acknowledged and delivered exactly once', async () => {
    const { received, jid } = await receiver('cut');
    const alice = make('alice', { resource: 'cut' });
    const log = events(alice);
    await alice.start();
    expect(alice.streamManagement.enabled).toBe(true);
    h.proxy.blackhole();
    const acked = alice.streamManagement.sendAcked(message(jid, 'stuck-1'));
    await sleep(100);
    h.proxy.blackhole(false);
    h.proxy.cut();
    await acked;
    await until(() => received.includes('stuck-1'), 5000, 'delivery');
    await sleep(300);
    expect(received.filter((b) => b === 'stuck-1')).toHaveLength(1);
    expect(log.filter((l) => l === 'online')).toHaveLength(1);
    expect(log).toContain('resumed');
    expect(alice.status).toBe('online');
  });

  it('an IQ request stuck in a blackhole, then a cut: its reply arrives on the resumed session', async () => {
    const alice = make('alice', { resource: 'iq-resume' });
    const log = events(alice);
    await alice.start();
    h.proxy.blackhole();
    const roster = alice.iqCaller.get(xml('query', 'jabber:iq:roster'));
    await sleep(100);
    h.proxy.blackhole(false);
    h.proxy.cut();
    const query = await roster;
    expect(query?.attrs.xmlns).toBe('jabber:iq:roster');
    expect(log).toContain('resumed');
    expect(log.filter((l) => l === 'online')).toHaveLength(1);
  });

  it('blackhole: the client detects the dead link itself and resumes', async () => {
    const { received, jid } = await receiver('bh');
    const alice = make('alice', { resource: 'bh', streamManagement: { timeout: 1000, requestAckInterval: 1000 } });
    const log = events(alice);
    await alice.start();
    h.proxy.blackhole();
    const disconnected = new Promise<void>((resolve) => alice.once('disconnect', () => resolve()));
    const acked = alice.streamManagement.sendAcked(message(jid, 'bh-1'));
    const t0 = Date.now();
    await disconnected;
    console.log(`dead link detected after ${Date.now() - t0} ms`);
    h.proxy.blackhole(false); // the network comes back
    await acked;
    await until(() => received.includes('bh-1'), 5000, 'delivery');
    await sleep(200);
    expect(received.filter((b) => b === 'bh-1')).toHaveLength(1);
    expect(log).toContain('resumed');
    expect(log.filter((l) => l === 'online')).toHaveLength(1);
  });

  it('600 awaited IQs then a cut: IQ results are counted, so Prosody (queue of 500) still resumes', async () => {
    const alice = make('alice', { resource: 'iq600' });
    const log = events(alice);
    await alice.start();
    for (let i = 0; i < 600; i++) {
      await alice.iqCaller.request(xml('iq', { type: 'get', to: server.domain }, xml('ping', 'urn:xmpp:ping')));
    }
    expect(alice.streamManagement.inbound).toBeGreaterThanOrEqual(600);
    await sleep(100);
    h.proxy.cut();
    await until(() => log.includes('resumed') || log.some((l) => l.startsWith('resumeFailed')), 10_000, 'resumption');
    expect(log).toContain('resumed');
    expect(log.filter((l) => l === 'online')).toHaveLength(1);
  });

  it('persistence: a new client object with the same file store resumes and re-sends what was never acknowledged', async () => {
    const { received, jid } = await receiver('persist');
    const file = join(mkdtempSync(join(tmpdir(), 'xmppkit-sm-')), 'alice.json');
    const first = make('alice', { resource: 'persist', streamManagement: { store: fileStore(file), saveDelay: 0 } });
    await first.start();
    const id = first.streamManagement.id;
    h.proxy.blackhole();
    await first.send(message(jid, 'persisted-1'));
    await sleep(150);
    // the process "dies": no stop(), no reconnect
    first.reconnect.stop();
    h.proxy.blackhole(false);
    h.proxy.cut();
    await sleep(100);

    const second = make('alice', { resource: 'persist', streamManagement: { store: fileStore(file) } });
    const log = events(second);
    const address = await second.start();
    expect(address.toString()).toBe('alice@localhost/persist');
    expect(second.streamManagement.id).toBe(id);
    expect(log).toContain('resumed');
    expect(log).not.toContain('online');
    await until(() => log.includes('ack:persisted-1'), 5000, 'ack');
    await until(() => received.includes('persisted-1'), 5000, 'delivery');
    await sleep(200);
    expect(received.filter((b) => b === 'persisted-1')).toHaveLength(1);
  });

  it('chaos: ~1000 messages with a cut every few hundred ms; every promise settles, acknowledged = received, no duplicate', async () => {
    const { received, jid } = await receiver('chaos');
    const alice = make('alice', { resource: 'chaos', reconnect: { initialDelay: 20, maxDelay: 200 } });
    const log = events(alice);
    await alice.start();
    let cuts = 0;
    let cutsWhileSending = 0;
    let sending = true;
    const chaos = (async () => {
      // cut every 150-400 ms while sending, and until at least 8 cuts happened
      while (sending || cuts < 8) {
        await sleep(150 + Math.floor(Math.random() * 250));
        if (h.proxy.cut() > 0) {
          cuts++;
          if (sending) cutsWhileSending++;
        }
      }
    })();
    const total = 1000;
    const results: Array<Promise<'acked' | 'failed'>> = [];
    for (let i = 0; i < total; i++) {
      results.push(
        alice.streamManagement.sendAcked(message(jid, `chaos-${i}`)).then(
          () => 'acked' as const,
          () => 'failed' as const,
        ),
      );
      if (i % 10 === 9) await sleep(20);
    }
    sending = false;
    await chaos;
    const outcomes = await Promise.race([
      Promise.all(results),
      sleep(45_000).then(() => {
        throw new Error('not every sendAcked promise settled');
      }),
    ]);
    const ackedIds = new Set<string>();
    outcomes.forEach((o, i) => o === 'acked' && ackedIds.add(`chaos-${i}`));
    await until(() => [...ackedIds].every((id) => received.includes(id)), 10_000, 'every acknowledged message to arrive');
    await sleep(500);
    const mine = received.filter((b) => b.startsWith('chaos-'));
    const unique = new Set(mine);
    const failed = outcomes.filter((o) => o === 'failed').length;
    console.log(
      `chaos: sent ${total}, acknowledged ${ackedIds.size}, failed ${failed}, received ${mine.length} (unique ${unique.size}), duplicates ${mine.length - unique.size}, cuts ${cuts} (${cutsWhileSending} while sending), resumed ${log.filter((l) => l === 'resumed').length}`,
    );
    expect(outcomes).toHaveLength(total);
    expect(cuts).toBeGreaterThanOrEqual(8);
    expect(cutsWhileSending).toBeGreaterThanOrEqual(3);
    expect(mine.length - unique.size).toBe(0);
    expect([...unique].sort()).toEqual([...ackedIds].sort());
  }, 90_000);

  it('server restart: resumption fails, every unacknowledged stanza is reported, a new session starts', async () => {
    const alice = make('alice', { resource: 'restart' });
    const log = events(alice);
    await alice.start();
    h.proxy.blackhole();
    const pending = ['lost-1', 'lost-2', 'lost-3'].map((id) => alice.streamManagement.sendAcked(message('bob@localhost/none', id)));
    for (const p of pending) p.catch(() => undefined);
    await sleep(100);
    const restart = spawnSync('bash', ['scripts/prosody.sh', 'restart'], { cwd: root, encoding: 'utf8' });
    expect(restart.status, restart.stderr).toBe(0);
    h.proxy.blackhole(false);
    await until(() => log.filter((l) => l === 'online').length === 2, 20_000, 'a new session');
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(log.filter((l) => l.startsWith('fail:'))).toEqual(['fail:lost-1:resume-failed', 'fail:lost-2:resume-failed', 'fail:lost-3:resume-failed']);
    expect(log.some((l) => l.startsWith('resumeFailed'))).toBe(true);
    expect(alice.status).toBe('online');
    expect(alice.streamManagement.enabled).toBe(true);
  }, 40_000);
});
