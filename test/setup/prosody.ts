/**
 * Vitest globalSetup of the `integration` project: brings up the private Prosody of
 * scripts/prosody.sh (loopback, no TLS; see scripts/prosody.cfg.lua.in) and hands its coordinates
 * to the tests. Tests read them with `prosody()` from test/setup/servers.ts (or `inject('prosody')`).
 *
 * Never skips: if Prosody cannot be installed or started, the run fails with the script's output.
 * Teardown stops the server only if this setup started it, and not when XMPPKIT_KEEP_PROSODY=1.
 * Ports, state dir and timeouts follow the XMPPKIT_PROSODY_* variables read by the script.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

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

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const script = 'scripts/prosody.sh';

function run(args: string[], timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync('bash', [script, ...args], {
    cwd: repoRoot,
    env: process.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function describe(result: SpawnSyncReturns<string>): string {
  const how = result.error
    ? `failed to run: ${result.error.message}`
    : result.signal
      ? `killed by ${result.signal}`
      : `exited with status ${result.status}`;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return `${how}${output ? `\n${output}` : ''}`;
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  // 0: running and answering; anything else (3: stopped, 1: hung) means `up` will (re)start it.
  const before = run(['status'], 30_000);
  const startedHere = before.status !== 0;

  // `up` may install Prosody with apt-get on a fresh CI machine: allow it minutes, not seconds.
  const up = run(['up'], 15 * 60_000);
  if (up.status !== 0) {
    throw new Error(
      `Prosody is required by the integration tests and could not be started ` +
        `(\`bash ${script} up\` ${describe(up)}).\n` +
        `Run \`bash ${script} up\` yourself to see what is wrong.`,
    );
  }
  if (up.stderr) process.stderr.write(up.stderr);

  const env = run(['env', '--json'], 30_000);
  if (env.status !== 0) {
    throw new Error(`\`bash ${script} env --json\` ${describe(env)}`);
  }
  const info = JSON.parse(env.stdout) as ProsodyInfo;
  provide('prosody', info);

  return async () => {
    if (!startedHere) return; // it was already running before this run: leave it alone
    if (process.env.XMPPKIT_KEEP_PROSODY === '1') {
      process.stderr.write(`XMPPKIT_KEEP_PROSODY=1: leaving Prosody running (bash ${script} down stops it)\n`);
      return;
    }
    const down = run(['down'], 60_000);
    if (down.status !== 0) {
      throw new Error(`\`bash ${script} down\` ${describe(down)}`);
    }
  };
}
