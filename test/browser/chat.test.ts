/**
 * The chat example (examples/browser/chat) in real Chromium against the private Prosody: a conversation
 * with acknowledged messages and the connection status, captured as test-results/chat.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { client, xml } from '@xmppkit/client';
// @ts-expect-error: a plain JavaScript example module without types
import { handler } from '../../examples/browser/chat/serve.mjs';
import { useBrowser } from '../support/browser.js';
import { prosody } from '../setup/servers.js';

const server = prosody();
const screenshot = fileURLToPath(new URL('../../test-results/chat.png', import.meta.url));
// The page is the example's own (index.html, chat.js, chat.css next to the bundle): its server, not the blank page.
const chromium = useBrowser({ handler: handler() });

describe('the chat example', () => {
  it('shows a conversation with acknowledged messages and the connection status', async () => {
    const bob = client({ service: server.service, domain: server.domain, username: 'bob', password: server.accounts.bob, resource: 'chat-peer' });
    const toBob: string[] = [];
    bob.on('stanza', (s) => {
      if (s.is('message') && s.getChildText('body')) toBob.push(s.getChildText('body') as string);
    });
    await bob.start();
    await bob.send(xml('presence'));
    try {
      const { page, errors } = await chromium.open({ viewport: { width: 900, height: 560 } });
      await page.fill('input[name=service]', server.service);
      await page.fill('input[name=domain]', server.domain);
      await page.click('#login button[type=submit]');
      await page.waitForSelector('#chat:not([hidden])');
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'online');
      await page.fill('#peer', 'bob@localhost/chat-peer');

      for (const text of ['Hi Bob!', 'Is the new release out?']) {
        await page.fill('#text', text);
        await page.press('#text', 'Enter');
      }
      await page.waitForFunction(() => document.querySelectorAll('li.out .state.acknowledged').length === 2);
      await bob.send(xml('message', { to: 'alice@localhost/chat', type: 'chat' }, xml('body', {}, 'Yes, shipped this morning.')));
      await page.waitForFunction(() => Array.from(document.querySelectorAll('li.in .bubble')).some((e) => e.textContent?.includes('shipped this morning')));
      await page.fill('#text', 'Great, thanks!');
      await page.press('#text', 'Enter');
      await page.waitForFunction(() => document.querySelectorAll('li.out .state.acknowledged').length === 3);

      mkdirSync(fileURLToPath(new URL('../../test-results/', import.meta.url)), { recursive: true });
      await page.screenshot({ path: screenshot });
      const states = await page.$$eval('li.out .state', (els) => els.map((e) => e.textContent));
      expect(states).toEqual(Array(3).fill('✓ acknowledged by the server'));
      expect(await page.textContent('#status')).toBe('online');
      expect(await page.$$eval('li.in .bubble', (els) => els.map((e) => e.textContent))).toContain('bob@localhost: Yes, shipped this morning.');
      expect(toBob.filter((b) => ['Hi Bob!', 'Is the new release out?', 'Great, thanks!'].includes(b))).toEqual(['Hi Bob!', 'Is the new release out?', 'Great, thanks!']);
      expect(errors).toEqual([]);
    } finally {
      await bob.stop();
    }
  });
});
