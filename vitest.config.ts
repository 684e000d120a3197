import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

// Tests run against the TypeScript sources, never against a stale build.
const alias = [
  { find: /^@xmppkit\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
  { find: /^@xmppkit\/([a-z-]+)\/([a-z-]+)$/, replacement: `${packages}$1/src/$2.ts` },
];

/** Every test file in the repository matches one of these globs; scripts/test.mjs proves it after each run. */
import testGlobs from './test/globs.json' with { type: 'json' };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: testGlobs.unit, environment: 'node' },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: testGlobs.integration,
          environment: 'node',
          globalSetup: ['test/setup/prosody.ts', 'test/setup/ejabberd.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'browser',
          include: testGlobs.browser,
          environment: 'node',
          // The same setups as `integration`: when both projects run, the first brings a server up and
          // the second finds it running; vitest tears every project down only when the whole run ends,
          // and only the setup that started a server stops it (test/setup/server-script.ts).
          globalSetup: ['test/setup/prosody.ts', 'test/setup/ejabberd.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
