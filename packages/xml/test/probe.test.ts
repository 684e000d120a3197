import { it } from 'vitest';
import { Parser } from '@xmppkit/xml';
it('probe', () => {
  const p = new Parser({ maxStanzaSize: 100 });
  const errs: string[] = []; p.on('error', (e) => errs.push(e.condition + ': ' + e.message));
  p.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
  let n = 0; while (errs.length === 0 && n < 1000) { p.write(' '); n++; }
  console.log('stream mode keepalives before error:', n, errs);
});
