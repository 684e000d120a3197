// A small echo bot: logs in with SCRAM, answers every chat message, logs off on Ctrl-C (or after
// BOT_MAX_REPLIES replies). Run it against the local Prosody: `pnpm prosody up && node examples/node/bot.js`.
import { client, xml } from '@xmppkit/client';

export function startBot({
  service = process.env.XMPP_SERVICE ?? 'ws://127.0.0.1:15280/xmpp-websocket',
  domain = process.env.XMPP_DOMAIN ?? 'localhost',
  username = process.env.XMPP_USERNAME ?? 'bot',
  password = process.env.XMPP_PASSWORD ?? 'bot-secret',
  maxReplies = Number(process.env.BOT_MAX_REPLIES ?? Infinity),
  log = console.log,
} = {}) {
  const xmpp = client({ service, domain, username, password, resource: 'echo' });
  let replies = 0;

  xmpp.on('status', (status) => log(`[bot] status: ${status}`));
  xmpp.on('error', (err) => log(`[bot] error: ${err.message}`));

  xmpp.on('stanza', async (stanza) => {
    if (!stanza.is('message') || stanza.attrs.type === 'error') return;
    const body = stanza.getChildText('body');
    if (!body) return;
    log(`[bot] ${stanza.attrs.from} says: ${body}`);
    await xmpp.send(xml('message', { to: stanza.attrs.from, type: stanza.attrs.type ?? 'chat' }, xml('body', {}, `echo: ${body}`)));
    if (++replies >= maxReplies) await xmpp.stop();
  });

  xmpp.on('online', async (jid) => {
    log(`[bot] online as ${jid} (authenticated with ${xmpp.sasl.mechanism})`);
    await xmpp.send(xml('presence'));
  });

  return xmpp;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const xmpp = startBot();
  process.once('SIGINT', () => xmpp.stop().then(() => process.exit(0)));
  xmpp.start().catch((err) => {
    console.error(`[bot] could not start: ${err.message}`);
    process.exitCode = 1;
  });
}
