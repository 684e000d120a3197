import { describe, expect, it } from 'vitest';
import { Connection } from '@xmppkit/connection';
import { ScriptedServer, ServerStreamManagement, tick, xml } from '@xmppkit/test';

async function connected() {
  const server = new ScriptedServer();
  const conn = new Connection({ domain: 'localhost', transports: [server.factory] });
  const connecting = conn.connect('memory:');
  const peer = await server.nextConnection();
  await connecting;
  return { server, conn, peer };
}

describe('ScriptedServer', () => {
  it('carries headers and elements both ways, through real serialisation and parsing', async () => {
    const { conn, peer } = await connected();
    const opening = conn.open();
    expect((await peer.nextHeader()).to).toBe('localhost');
    peer.sendHeader();
    await opening;
    const got = new Promise((resolve) => conn.once('stanza', resolve));
    peer.send(xml('message', { id: 'm' }, xml('body', {}, 'a & b')));
    expect(((await got) as ReturnType<typeof xml>).getChildText('body')).toBe('a & b');
    await conn.send(xml('presence', { id: 'p' }));
    expect((await peer.next('presence')).attrs.id).toBe('p');
  });

  it('cut() closes the link uncleanly; refuse makes connect reject', async () => {
    const { server, conn, peer } = await connected();
    const info = new Promise((resolve) => conn.once('disconnect', resolve));
    peer.cut();
    expect(await info).toMatchObject({ clean: false });
    server.refuse = true;
    await expect(conn.connect('memory:')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('blackholed links drop traffic in both directions', async () => {
    const { conn, peer } = await connected();
    peer.blackholed = true;
    await conn.send(xml('message', { id: 'lost' }));
    await tick();
    expect(peer.received).toEqual([]);
  });

  it('ServerStreamManagement counts stanzas and answers <r/>', async () => {
    const { conn, peer } = await connected();
    const sm = new ServerStreamManagement(peer);
    await conn.send(xml('message'));
    await conn.send(xml('presence'));
    const answer = new Promise((resolve) => conn.once('element', resolve));
    await conn.send(xml('r', 'urn:xmpp:sm:3'));
    expect(((await answer) as ReturnType<typeof xml>).attrs).toMatchObject({ h: '2' });
    expect(sm.requests).toBe(1);
  });
});
