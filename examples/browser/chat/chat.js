// A small chat page on the browser bundle: login, a conversation with per-message delivery state
// (sending, acknowledged by the server, failed with a retry button) and the connection status.
const { client, xml, jid, webStorageStore } = globalThis.xmppkit;

const $ = (sel) => document.querySelector(sel);
let xmpp = null;

function setStatus(text, kind) {
  const el = $('#status');
  el.textContent = text;
  el.className = `status ${kind}`;
}

function addMessage(direction, body, state) {
  const li = document.createElement('li');
  li.className = direction;
  const bubble = document.createElement('span');
  bubble.className = 'bubble';
  bubble.textContent = body;
  li.append(bubble);
  if (direction === 'out') {
    const badge = document.createElement('span');
    badge.className = 'state';
    li.append(badge);
  }
  $('#messages').append(li);
  if (state) setState(li, state);
  return li;
}

function setState(li, state, onRetry) {
  const badge = li.querySelector('.state');
  badge.className = `state ${state}`;
  badge.textContent = { sending: 'sending…', acknowledged: '✓ acknowledged by the server', failed: '✗ failed' }[state];
  if (state === 'failed' && onRetry) {
    const retry = document.createElement('button');
    retry.textContent = 'retry';
    retry.onclick = () => {
      retry.remove();
      onRetry();
    };
    badge.append(' ', retry);
  }
}

function send(body, li = addMessage('out', body, 'sending')) {
  setState(li, 'sending');
  const stanza = xml('message', { to: $('#peer').value, type: 'chat' }, xml('body', {}, body));
  xmpp.streamManagement.sendAcked(stanza).then(
    () => setState(li, 'acknowledged'),
    () => setState(li, 'failed', () => send(body, li)),
  );
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  xmpp = client({
    service: form.get('service'),
    domain: form.get('domain'),
    username: form.get('username'),
    password: form.get('password'),
    resource: 'chat',
    streamManagement: { store: webStorageStore(sessionStorage) },
  });
  xmpp.on('status', (status) => {
    if (status === 'online') setStatus('online', 'online');
    else if (status === 'disconnect') setStatus('disconnected', 'offline');
  });
  xmpp.reconnect.on('reconnecting', (attempt, delay) =>
    setStatus(delay < 0 ? 'offline, waiting for the network' : `reconnecting in ${(delay / 1000).toFixed(1)} s`, 'reconnecting'),
  );
  xmpp.streamManagement.on('resumed', () => setStatus('online (resumed)', 'resumed'));
  xmpp.on('stanza', (stanza) => {
    if (stanza.is('message') && stanza.getChildText('body')) addMessage('in', `${jid(stanza.attrs.from).bare()}: ${stanza.getChildText('body')}`);
  });
  setStatus('connecting…', 'reconnecting');
  try {
    const me = await xmpp.start();
    $('#me').textContent = me.toString();
    $('#login').hidden = true;
    $('#chat').hidden = false;
    await xmpp.send(xml('presence'));
  } catch (err) {
    setStatus(`login failed: ${err.condition ?? err.message}`, 'offline');
  }
});

$('#compose').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('#text').value.trim();
  if (!text || !xmpp) return;
  $('#text').value = '';
  send(text);
});

$('#logout').addEventListener('click', async () => {
  await xmpp?.stop();
  location.reload();
});
