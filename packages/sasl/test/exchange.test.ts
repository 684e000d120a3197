import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { client, xml, SASLError, TimeoutError, type Element } from '@xmppkit/client';
import { ScriptedServer, type ServerConnection } from '@xmppkit/test';

const NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

function setup(extra: Partial<Parameters<typeof client>[0]> = {}) {
  const server = new ScriptedServer();
  const xmpp = client({ service: 'memory://localhost', username: 'user', password: 'pencil', transports: [server.factory], timeout: 2000, ...extra });
  return { server, xmpp };
}

async function offer(peer: ServerConnection, ...mechanisms: string[]): Promise<Element> {
  await peer.nextHeader();
  peer.sendHeader();
  peer.sendFeatures(xml('mechanisms', NS, ...mechanisms.map((m) => xml('mechanism', {}, m))));
  return peer.next('auth');
}

/** Play SCRAM-SHA-256 as a server; `final` picks where the server-final-message goes. */
async function scram(peer: ServerConnection, auth: Element, final: 'success' | 'challenge' | 'forged') {
  expect(auth.attrs.mechanism).toBe('SCRAM-SHA-256');
  const clientFirst = unb64(auth.text());
  const bare = clientFirst.slice(3);
  const salt = randomBytes(16);
  const serverFirst = `r=${/r=([^,]+)/.exec(bare)![1]}srv,s=${salt.toString('base64')},i=4096`;
  peer.send(xml('challenge', NS, b64(serverFirst)));
  const response = unb64((await peer.next('response')).text());
  const withoutProof = response.slice(0, response.indexOf(',p='));
  const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(authMessage).digest();
  expect(Buffer.from(response.slice(response.indexOf(',p=') + 3), 'base64')).toEqual(Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)));
  let v = `v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}`;
  if (final === 'forged') v = `v=${b64(randomBytes(32))}`;
  if (final === 'challenge') {
    peer.send(xml('challenge', NS, b64(v)));
    expect((await peer.next('response')).text()).toBe('');
    peer.send(xml('success', NS));
  } else peer.send(xml('success', NS, b64(v)));
}

describe('sasl() exchange', () => {
  it.each(['success', 'challenge'] as const)('authenticates with SCRAM, the server-final-message in <%s/>', async (final) => {
    const { server, xmpp } = setup({ sasl: { mechanisms: ['SCRAM-SHA-256'] } });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await scram(peer, await offer(peer, 'PLAIN', 'SCRAM-SHA-256'), final);
    await peer.nextHeader();
    peer.sendHeader();
    peer.sendFeatures(xml('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));
    await peer.bind();
    await started;
    expect(xmpp.sasl.mechanism).toBe('SCRAM-SHA-256');
    expect(xmpp.sasl.scramCache.size).toBe(1);
    await xmpp.stop();
  });

  it('fails with server-signature-mismatch on a forged signature', async () => {
    const { server, xmpp } = setup({ sasl: { mechanisms: ['SCRAM-SHA-256'] } });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await scram(peer, await offer(peer, 'SCRAM-SHA-256'), 'forged');
    await expect(started).rejects.toMatchObject({ name: 'SASLError', condition: 'server-signature-mismatch' });
    expect(xmpp.sasl.scramCache.size).toBe(0);
  });

  it('sends <abort/> when the mechanism refuses a challenge', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await offer(peer, 'PLAIN');
    peer.send(xml('challenge', NS, b64('x')));
    await peer.next('abort');
    await expect(started).rejects.toMatchObject({ condition: 'invalid-challenge' });
  });

  it('answers an empty challenge for ANONYMOUS, and reports <failure/>', async () => {
    const { server, xmpp } = setup({ username: undefined, password: undefined });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    const auth = await offer(peer, 'PLAIN', 'ANONYMOUS');
    expect([auth.attrs.mechanism, auth.text()]).toEqual(['ANONYMOUS', '']);
    peer.send(xml('challenge', NS, '='));
    expect((await peer.next('response')).text()).toBe('');
    peer.send(xml('failure', NS, xml('account-disabled')));
    await expect(started).rejects.toMatchObject({ condition: 'account-disabled' });
  });

  it('rejects an unexpected element with malformed-request', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await offer(peer, 'PLAIN');
    peer.send(xml('bogus', NS));
    await expect(started).rejects.toMatchObject({ condition: 'malformed-request' });
  });

  it('fails the login when the credentials callback never authenticates, and names the mechanism', async () => {
    const seen: string[] = [];
    const { server, xmpp } = setup({ username: undefined, password: undefined, credentials: async (_auth, mechanism) => void seen.push(mechanism) });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.nextHeader();
    peer.sendHeader();
    peer.sendFeatures(xml('mechanisms', NS, xml('mechanism', {}, 'SCRAM-SHA-1'), xml('mechanism', {}, 'PLAIN')));
    await expect(started).rejects.toMatchObject({ condition: 'not-authorized' });
    expect(seen).toEqual(['SCRAM-SHA-1']);
  });

  it('rejects when the connection drops mid-exchange', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await offer(peer, 'PLAIN');
    peer.transport.destroy();
    await expect(started).rejects.toBeInstanceOf(Error);
    expect(xmpp.status).toBe('offline');
  });

  it('gives up with TimeoutError when the server does not answer <auth/>', async () => {
    const { server, xmpp } = setup({ timeout: 200 });
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await offer(peer, 'PLAIN');
    await expect(started).rejects.toBeInstanceOf(TimeoutError);
    expect(xmpp.status).toBe('offline');
  });

  it('names both sides when there is no common mechanism', async () => {
    const { server, xmpp } = setup();
    const started = xmpp.start();
    const peer = await server.nextConnection();
    await peer.nextHeader();
    peer.sendHeader();
    peer.sendFeatures(xml('mechanisms', NS, xml('mechanism', {}, 'X-OAUTH2')));
    const error = await started.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SASLError);
    expect(error).toMatchObject({ condition: 'no-mechanism', text: 'no common mechanism (server: X-OAUTH2; client: SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN)' });
  });
});
