/**
 * What the Prosody and ejabberd global setups share: run `scripts/<name>.sh`, bring the server up
 * (never skipping: a failure throws with the script's output), read its coordinates, and stop it
 * at teardown only if this run started it.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerScript {
  /** run the script with these arguments */
  run(args: string[], timeoutMs?: number): SpawnSyncReturns<string>;
  /** run it and return stdout, or throw with what went wrong */
  output(args: string[]): string;
  readonly path: string;
}

function explain(result: SpawnSyncReturns<string>): string {
  const how = result.error ? `failed to run: ${result.error.message}` : result.signal ? `killed by ${result.signal}` : `exited with status ${result.status}`;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return `${how}${output ? `\n${output}` : ''}`;
}

export function serverScript(name: 'prosody' | 'ejabberd'): ServerScript {
  const path = `scripts/${name}.sh`;
  const run = (args: string[], timeoutMs = 30_000) =>
    spawnSync('bash', [path, ...args], { cwd: repoRoot, env: process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return {
    path,
    run,
    output(args) {
      const result = run(args);
      if (result.status !== 0) throw new Error(`\`bash ${path} ${args.join(' ')}\` ${explain(result)}`);
      return result.stdout;
    },
  };
}

/**
 * Bring the server up and return a teardown. `label` names it in messages; `keepEnv` is the
 * variable that, set to 1, leaves a server this run started running.
 */
export function bringUp(script: ServerScript, label: string, keepEnv: string): { startedHere: boolean; teardown: () => Promise<void> } {
  // 0: running and answering; anything else (3: stopped, 1: hung) means `up` will (re)start it.
  // When the integration and browser projects both use this setup in one run, vitest runs their
  // setups one after the other and every teardown only when the run ends: the first starts the
  // server (and stops it at the end), the second finds it running and leaves it alone.
  const startedHere = script.run(['status']).status !== 0;
  // `up` may install the server with apt-get on a fresh CI machine: allow it minutes, not seconds.
  const up = script.run(['up'], 15 * 60_000);
  if (up.status !== 0) {
    throw new Error(
      `${label} is required by the tests and could not be started (\`bash ${script.path} up\` ${explain(up)}).\n` +
        `Run \`bash ${script.path} up\` yourself to see what is wrong.`,
    );
  }
  if (up.stderr) process.stderr.write(up.stderr);
  const teardown = async (): Promise<void> => {
    if (!startedHere) return; // it was already running before this run: leave it alone
    if (process.env[keepEnv] === '1') {
      process.stderr.write(`${keepEnv}=1: leaving ${label} running (bash ${script.path} down stops it)\n`);
      return;
    }
    script.output(['down']);
  };
  return { startedHere, teardown };
}
