/**
 * Stream management (XEP-0198) against ejabberd 23.01 (the private node of scripts/ejabberd.sh),
 * through the fault-injection proxy: the same cut/resume and failed-resume scenarios as
 * test/integration/stream-management.test.ts runs against Prosody.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { xml } from '@xmppkit/client';
import { events, message, sleep, until, useProxiedClients } from '../support/harness.js';
import { ejabberd } from '../setup/servers.js';

const server = ejabberd();
const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const h = useProxiedClients(server);
const { make, receiver } = h;

describe(`stream management against ejabberd ${server.version}, through the fault proxy`, () => {
  it('logs in with SCRAM-SHA-1 and enables resumable stream management (a long base64 SM-ID)', async () => {
    const alice = make('alice', { resource: 'login' });
    const t0 = performance.now();
    const address = await alice.start();
    console.log(`ejabberd ${server.version}: SCRAM-SHA-1 login to online through the proxy in ${(performance.now() - t0).toFixed(1)} ms`);
    expect(address.toString()).toBe(`alice@${server.domain}/login`);
    expect(alice.sasl.mechanism).toBe('SCRAM-SHA-1');
    expect(alice.streamManagement.enabled).toBe(true);
    expect(alice.streamManagement.canResume).toBe(true);
    const id = alice.streamManagement.id;
    console.log(`ejabberd SM-ID (${id?.length} chars): ${id}; max=${alice.streamManagement.max}`);
    expect(id).toMatch(/^[A-Za-z0-9+/]{16,}={0,2}$/);
    expect(alice.streamManagement.max).toBe(server.resumeTimeout);
  });

  it('cut: the session resumes, the stuck stanza is acknowledged and delivered exactly once', async () => {
    const { received, jid } = await receiver('cut');
    const alice = make('alice', { resource: 'cut' });
    const log = events(alice);
    await alice.start();
    expect(alice.streamManagement.enabled).toBe(true);
    const id = alice.streamManagement.id;
    h.proxy.blackhole();
    const acked = alice.streamManagement.sendAcked(message(jid, 'stuck-1'));
    await sleep(100);
    expect(received).not.toContain('stuck-1'); // it is stuck in the proxy
    const t0 = performance.now();
    h.proxy.blackhole(false);
    h.proxy.cut();
    await acked;
    console.log(`cut → stuck message acknowledged after resumption in ${(performance.now() - t0).toFixed(1)} ms`);
    await until(() => received.includes('stuck-1'), 5000, 'delivery');
    await sleep(500);
    expect(received.filter((b) => b === 'stuck-1')).toHaveLength(1);
    expect(log.filter((l) => l === 'online')).toHaveLength(1);
    expect(log).toContain('resumed');
    expect(log).toContain('ack:stuck-1');
    expect(log.some((l) => l.startsWith('fail:') || l.startsWith('resumeFailed'))).toBe(false);
    expect(alice.status).toBe('online');
    expect(alice.streamManagement.id).toBe(id);
    expect(alice.jid?.toString()).toBe(`alice@${server.domain}/cut`);
    // the resumed session works both ways
    await alice.streamManagement.sendAcked(message(jid, 'after-1'));
    await until(() => received.includes('after-1'), 5000, 'delivery after resumption');
  });

  it('expired session: resumption fails (<failed/>), the stuck stanza is reported, a new session starts', async () => {
    // The client asks for a 1 s resumption window (<enable max='1'/>); ejabberd grants it (max_resume_timeout 300).
    const alice = make('alice', { resource: 'expire', streamManagement: { preferredMaximum: 1 }, reconnect: { initialDelay: 50, maxDelay: 500 } });
    const log = events(alice);
    await alice.start();
    expect(alice.streamManagement.max).toBe(1);
    const firstId = alice.streamManagement.id;
    h.proxy.blackhole();
    const pending = alice.streamManagement.sendAcked(message(`bob@${server.domain}/nobody`, 'expired-1'));
    pending.catch(() => undefined);
    await sleep(100);
    // The link drops (ejabberd sees a RST and keeps the session for 1 s) and stays down for 3 s.
    h.proxy.refuse();
    h.proxy.cut();
    await sleep(3000);
    h.proxy.blackhole(false);
    h.proxy.refuse(false);
    await until(() => log.filter((l) => l === 'online').length === 2, 15_000, 'a new session');
    const [result] = await Promise.allSettled([pending]);
    console.log(`ejabberd <failed/> for an expired session: ${log.failed.map((f) => f.toString()).join(' ')}`);
    expect(log.some((l) => l.startsWith('resumeFailed'))).toBe(true);
    expect(log).not.toContain('resumed');
    // never sent to the server (blackholed), so reported failed rather than acknowledged by <failed h/>
    expect(result?.status).toBe('rejected');
    expect(log.filter((l) => l.startsWith('fail:'))).toEqual(['fail:expired-1:resume-failed']);
    expect(alice.status).toBe('online');
    expect(alice.streamManagement.enabled).toBe(true);
    expect(alice.streamManagement.id).not.toBe(firstId);
  }, 30_000);

  it('server restart: resumption fails, every unacknowledged stanza is reported, a new session starts', async () => {
    const alice = make('alice', { resource: 'restart', reconnect: { initialDelay: 50, maxDelay: 1000 } });
    const log = events(alice);
    await alice.start();
    const firstId = alice.streamManagement.id;
    h.proxy.blackhole();
    const pending = ['lost-1', 'lost-2', 'lost-3'].map((id) => alice.streamManagement.sendAcked(message(`bob@${server.domain}/none`, id)));
    for (const p of pending) p.catch(() => undefined);
    await sleep(100);
    // While alice cannot get through, ejabberd restarts and forgets every session.
    h.proxy.refuse();
    const t0 = performance.now();
    const restart = await run('bash', ['scripts/ejabberd.sh', 'restart'], { cwd: root, encoding: 'utf8', timeout: 25_000 }).catch(
      (err: { code?: unknown; stdout?: string; stderr?: string }) => err,
    );
    console.log(`ejabberd restart took ${(performance.now() - t0).toFixed(0)} ms`);
    expect(restart.stderr ?? '').toContain('started');
    h.proxy.blackhole(false);
    h.proxy.refuse(false);
    await until(() => log.filter((l) => l === 'online').length === 2, 15_000, 'a new session');
    const results = await Promise.allSettled(pending);
    console.log(`ejabberd <failed/> after a restart: ${log.failed.map((f) => f.toString()).join(' ')}`);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(log.filter((l) => l.startsWith('fail:'))).toEqual(['fail:lost-1:resume-failed', 'fail:lost-2:resume-failed', 'fail:lost-3:resume-failed']);
    expect(log.some((l) => l.startsWith('resumeFailed'))).toBe(true);
    expect(log).not.toContain('resumed');
    expect(alice.status).toBe('online');
    expect(alice.streamManagement.enabled).toBe(true);
    expect(alice.streamManagement.id).not.toBe(firstId);
  }, 30_000);
});
