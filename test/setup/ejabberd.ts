/**
 * Vitest globalSetup of the `integration` and `browser` projects: brings up the private ejabberd of
 * scripts/ejabberd.sh (loopback, no TLS, Debian's ejabberd 23.01 run as a node of our own) and hands
 * its coordinates to the tests. Tests read them with `ejabberd()` from test/setup/servers.ts (or
 * `inject('ejabberd')`).
 *
 * Never skips: if ejabberd cannot be installed or started, the run fails with the script's output.
 * Idempotent: when both projects run, the second finds the server running and leaves it to the first.
 * Teardown (when the whole run ends) stops the server only if this setup started it, and not
 * when XMPPKIT_KEEP_EJABBERD=1.
 * Ports, state dir and timeouts follow the XMPPKIT_EJABBERD_* variables read by the script.
 */
import type { TestProject } from 'vitest/node';
import { bringUp, serverScript } from './server-script.js';

export interface EjabberdInfo {
  /** WebSocket URL (RFC 7395), e.g. ws://127.0.0.1:15380/xmpp-websocket */
  service: string;
  /** BOSH URL, e.g. http://127.0.0.1:15380/http-bind */
  bosh: string;
  /** The only host: `localhost`. */
  domain: string;
  /** 127.0.0.1 */
  host: string;
  /** Plain TCP client port (no TLS), default 15322. */
  c2sPort: number;
  /** HTTP port serving WebSocket and BOSH, default 15380. */
  httpPort: number;
  /** Erlang distribution port of the node (loopback, no epmd), default 15390. */
  distPort: number;
  /** Erlang node name, e.g. xmppkit-ejabberd@localhost */
  node: string;
  /** mod_stream_mgmt resume_timeout in seconds. */
  resumeTimeout: number;
  /** Pre-created accounts on `domain`, local part → password (alice, bob, carol). */
  accounts: Record<string, string>;
  /** Version reported by the running node, e.g. `23.01-1`. */
  version: string;
  /** State directory of the instance (config, database, logs). */
  dir: string;
  /** The generated ejabberd.yml. */
  config: string;
  /** ejabberd's log file. */
  log: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    ejabberd: EjabberdInfo;
  }
}

const script = serverScript('ejabberd');

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const t0 = performance.now();
  const { startedHere, teardown } = bringUp(script, 'ejabberd', 'XMPPKIT_KEEP_EJABBERD');
  const info = { ...(JSON.parse(script.output(['env', '--json'])) as Omit<EjabberdInfo, 'version'>), version: script.output(['version']).trim() };
  process.stderr.write(
    `ejabberd ${info.version} (node ${info.node}) at ${info.service}, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
      `${startedHere ? '' : ' (already running)'}\n`,
  );
  provide('ejabberd', info);
  return teardown;
}
