// Stream management, visibly: alice talks to bob through a loopback proxy that this script cuts.
// Watch `hibernated` (sent while the link is down), `resumed` and `ack` scroll by.
// Needs the local Prosody: `pnpm prosody up`, then `node examples/node/resume.js`.
import net from 'node:net';
import { client, xml } from '@xmppkit/client';

const target = { host: '127.0.0.1', port: Number(process.env.XMPP_HTTP_PORT ?? 15280) };

// A tiny TCP proxy we can cut, standing in for a flaky network.
const sockets = new Set();
const proxy = net.createServer((inbound) => {
  const outbound = net.connect(target.port, target.host);
  for (const s of [inbound, outbound]) {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  }
  inbound.pipe(outbound).pipe(inbound);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const cut = () => sockets.forEach((s) => s.resetAndDestroy());

const service = `ws://127.0.0.1:${proxy.address().port}/xmpp-websocket`;
const alice = client({ service, domain: 'localhost', username: 'alice', password: 'alice-secret', resource: 'resume-demo', reconnect: { initialDelay: 500 } });
const bob = client({ service: `ws://127.0.0.1:${target.port}/xmpp-websocket`, domain: 'localhost', username: 'bob', password: 'bob-secret', resource: 'resume-demo' });

const sm = alice.streamManagement;
sm.on('enabled', ({ id }) => console.log(`[alice] stream management enabled (id ${id})`));
sm.on('hibernated', (s) => console.log(`[alice] hibernated: ${s.attrs.id} (the link is down; kept for resumption)`));
sm.on('retry', (s) => console.log(`[alice] re-sent: ${s.attrs.id}`));
sm.on('resumed', () => console.log('[alice] resumed: same session, nothing lost'));
sm.on('ack', (s) => console.log(`[alice] acknowledged by the server: ${s.attrs.id}`));
sm.on('fail', (s, e) => console.log(`[alice] failed: ${s.attrs.id} (${e.condition})`));
alice.reconnect.on('reconnecting', (n, ms) => console.log(`[alice] reconnecting, attempt ${n} in ${ms} ms`));
alice.on('status', (s) => console.log(`[alice] status: ${s}`));
bob.on('stanza', (s) => s.is('message') && console.log(`[bob]   received: ${s.getChildText('body')}`));

await bob.start();
await alice.start();
const say = (id) => sm.sendAcked(xml('message', { to: 'bob@localhost/resume-demo', type: 'chat', id }, xml('body', {}, id)));

await say('hello-1');
console.log('--- cutting the connection ---');
cut();
const pending = [say('while-down-1'), say('while-down-2')];
await Promise.all(pending);
console.log('--- every message acknowledged ---');
await alice.stop();
await bob.stop();
proxy.close();
