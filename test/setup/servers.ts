/**
 * Coordinates of the servers that the globalSetup of the `integration` and `browser` projects brought up.
 *
 *   import { prosody } from '../setup/servers.js';
 *   const { service, domain, accounts } = prosody();
 *   // service: 'ws://127.0.0.1:15280/xmpp-websocket', domain: 'localhost',
 *   // accounts: { alice: 'alice-secret', bob: 'bob-secret', ... }
 *
 *   import { ejabberd } from '../setup/servers.js';
 *   const { service, domain, accounts } = ejabberd();
 *   // service: 'ws://127.0.0.1:15380/xmpp-websocket', domain: 'localhost',
 *   // accounts: { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' }
 */
import { inject } from 'vitest';
import type { EjabberdInfo } from './ejabberd.js';
import type { ProsodyInfo } from './prosody.js';

export type { EjabberdInfo, ProsodyInfo };

/** The private Prosody of scripts/prosody.sh (see test/setup/prosody.ts). */
export function prosody(): ProsodyInfo {
  const info = inject('prosody');
  if (!info) {
    throw new Error(
      "inject('prosody') is empty: this test must run in the vitest project 'integration' or 'browser', " +
        'whose globalSetup includes test/setup/prosody.ts',
    );
  }
  return info;
}

/** The private ejabberd of scripts/ejabberd.sh (see test/setup/ejabberd.ts). */
export function ejabberd(): EjabberdInfo {
  const info = inject('ejabberd');
  if (!info) {
    throw new Error(
      "inject('ejabberd') is empty: this test must run in the vitest project 'integration' or 'browser', " +
        'whose globalSetup includes test/setup/ejabberd.ts',
    );
  }
  return info;
}
