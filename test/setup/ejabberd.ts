/**
 * Vitest globalSetup of the `integration` project: brings up the private ejabberd of
 * scripts/ejabberd.sh (loopback, no TLS, Debian's ejabberd 23.01 run as a node of our own) and hands
 * its coordinates to the tests. Tests read them with `ejabberd()` from test/setup/servers.ts (or
 * `inject('ejabberd')`).
 *
 * Never skips: if ejabberd cannot be installed or started, the run fails with the script's output.
 * Teardown stops the server only if this setup started it, and not when XMPPKIT_KEEP_EJABBERD=1.
 * Ports, state dir and timeouts follow the XMPPKIT_EJABBERD_* variables read by the script.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

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

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const script = 'scripts/ejabberd.sh';

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

  // `up` may install ejabberd with apt-get on a fresh CI machine: allow it minutes, not seconds.
  const t0 = performance.now();
  const up = run(['up'], 15 * 60_000);
  if (up.status !== 0) {
    throw new Error(
      `ejabberd is required by the integration tests and could not be started ` +
        `(\`bash ${script} up\` ${describe(up)}).\n` +
        `Run \`bash ${script} up\` yourself to see what is wrong.`,
    );
  }
  if (up.stderr) process.stderr.write(up.stderr);

  const env = run(['env', '--json'], 30_000);
  if (env.status !== 0) {
    throw new Error(`\`bash ${script} env --json\` ${describe(env)}`);
  }
  const version = run(['version'], 30_000);
  if (version.status !== 0) {
    throw new Error(`\`bash ${script} version\` ${describe(version)}`);
  }
  const info = { ...(JSON.parse(env.stdout) as Omit<EjabberdInfo, 'version'>), version: version.stdout.trim() };
  process.stderr.write(
    `ejabberd ${info.version} (node ${info.node}) at ${info.service}, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
      `${startedHere ? '' : ' (already running)'}\n`,
  );
  provide('ejabberd', info);

  return async () => {
    if (!startedHere) return; // it was already running before this run: leave it alone
    if (process.env.XMPPKIT_KEEP_EJABBERD === '1') {
      process.stderr.write(`XMPPKIT_KEEP_EJABBERD=1: leaving ejabberd running (bash ${script} down stops it)\n`);
      return;
    }
    const down = run(['down'], 60_000);
    if (down.status !== 0) {
      throw new Error(`\`bash ${script} down\` ${describe(down)}`);
    }
  };
}
