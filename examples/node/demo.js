// The quick-start demo: brings up the private Prosody (scripts/prosody.sh), starts the echo bot,
// has alice send it a message, prints the answer, and logs both off.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { client, xml } from '@xmppkit/client';
import { startBot } from './bot.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const prosody = (cmd) => spawnSync('bash', ['scripts/prosody.sh', cmd], { cwd: root, stdio: cmd === 'status' ? 'ignore' : 'inherit' });

const wasRunning = prosody('status').status === 0;
if (!wasRunning && prosody('up').status !== 0) {
  console.error('could not start Prosody; see the messages above');
  process.exit(1);
}

const service = 'ws://127.0.0.1:15280/xmpp-websocket';
const bot = startBot({ service, maxReplies: 1 });
const alice = client({ service, domain: 'localhost', username: 'alice', password: 'alice-secret', resource: 'demo' });

try {
  await bot.start();
  const jid = await alice.start();
  console.log(`[alice] online as ${jid}`);
  const answer = new Promise((resolve) =>
    alice.on('stanza', (stanza) => {
      if (stanza.is('message') && stanza.getChildText('body')) resolve(stanza.getChildText('body'));
    }),
  );
  await alice.send(xml('message', { to: 'bot@localhost/echo', type: 'chat' }, xml('body', {}, 'Hello from xmppkit!')));
  console.log(`[alice] got: ${await answer}`);
  await alice.stop();
  await new Promise((resolve) => (bot.status === 'offline' ? resolve() : bot.once('offline', resolve)));
  console.log('demo done');
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  process.exitCode = 1;
  await Promise.allSettled([alice.stop(), bot.stop()]);
} finally {
  if (!wasRunning) prosody('down');
}
