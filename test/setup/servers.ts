/**
 * Coordinates of the servers that the integration project's globalSetup brought up.
 *
 *   import { prosody } from '../setup/servers.js';
 *   const { service, domain, accounts } = prosody();
 *   // service: 'ws://127.0.0.1:15280/xmpp-websocket', domain: 'localhost',
 *   // accounts: { alice: 'alice-secret', bob: 'bob-secret', ... }
 */
import { inject } from 'vitest';
import type { ProsodyInfo } from './prosody.js';

export type { ProsodyInfo };

/** The private Prosody of scripts/prosody.sh (see test/setup/prosody.ts). */
export function prosody(): ProsodyInfo {
  const info = inject('prosody');
  if (!info) {
    throw new Error(
      "inject('prosody') is empty: this test must run in the vitest project 'integration', " +
        'whose globalSetup is test/setup/prosody.ts',
    );
  }
  return info;
}
