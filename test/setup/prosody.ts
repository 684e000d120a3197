/**
 * Vitest globalSetup of the `integration` and `browser` projects: brings up the private Prosody of
 * scripts/prosody.sh (loopback, no TLS; see scripts/prosody.cfg.lua.in) and hands its coordinates
 * to the tests. Tests read them with `prosody()` from test/setup/servers.ts (or `inject('prosody')`).
 *
 * Never skips: if Prosody cannot be installed or started, the run fails with the script's output.
 * Idempotent: when both projects run, the second finds the server running and leaves it to the first.
 * Teardown (when the whole run ends) stops the server only if this setup started it, and not
 * when XMPPKIT_KEEP_PROSODY=1.
 * Ports, state dir and timeouts follow the XMPPKIT_PROSODY_* variables read by the script.
 */
import type { TestProject } from 'vitest/node';
import { bringUp, serverScript } from './server-script.js';

export interface ProsodyInfo {
  /** WebSocket URL (RFC 7395), e.g. ws://127.0.0.1:15280/xmpp-websocket */
  service: string;
  /** BOSH URL, e.g. http://127.0.0.1:15280/http-bind */
  bosh: string;
  /** The only VirtualHost: `localhost`. */
  domain: string;
  /** 127.0.0.1 */
  host: string;
  /** Plain TCP client port (no TLS), default 15222. */
  c2sPort: number;
  /** HTTP port serving WebSocket and BOSH, default 15280. */
  httpPort: number;
  /** Pre-created accounts on `domain`, local part → password (alice, bob, carol, bot, user1..user4). */
  accounts: Record<string, string>;
  /** State directory of the instance (config, data, log). */
  dir: string;
  /** The generated Prosody config file. */
  config: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    prosody: ProsodyInfo;
  }
}

const script = serverScript('prosody');

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const { teardown } = bringUp(script, 'Prosody', 'XMPPKIT_KEEP_PROSODY');
  provide('prosody', JSON.parse(script.output(['env', '--json'])) as ProsodyInfo);
  return teardown;
}
