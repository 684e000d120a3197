import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseState, type StreamManagementState, type StreamManagementStore } from './stores.js';

/**
 * Keeps the state in a JSON file (Node.js only; import from `@xmppkit/stream-management/file-store`).
 * Writes go to a temporary file renamed over the old one, so a crash never leaves half a file.
 * The file holds message plaintext: it is created with mode 0600.
 */
let sequence = 0;

export function fileStore(path: string): StreamManagementStore {
  // Writes run one after the other; a failed one rejects its own call and does not block the next.
  let writing: Promise<void> = Promise.resolve();
  const queue = (task: () => Promise<void>): Promise<void> => {
    const run = writing.then(task, task);
    writing = run.catch(() => undefined);
    return run;
  };
  return {
    async load() {
      await writing;
      // a missing or unreadable file holds no state
      return parseState(await readFile(path, 'utf8').catch(() => null));
    },
    save(state: StreamManagementState) {
      const tmp = `${path}.${process.pid}.${++sequence}.tmp`;
      return queue(async () => {
        await mkdir(dirname(path), { recursive: true });
        try {
          await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
          await rename(tmp, path);
        } catch (err) {
          await rm(tmp, { force: true }).catch(() => undefined);
          throw err;
        }
      });
    },
    clear() {
      return queue(() => rm(path, { force: true }));
    },
  };
}

export type { StreamManagementState, StreamManagementStore };
