import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Walks the import graph of every package entry the way a browser bundler resolves it (the
// `browser` export condition first), from the TypeScript sources, and proves that no entry a
// browser can reach imports a Node.js built-in or `ws`.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const packagesDir = join(root, 'packages');
const BROWSER = ['browser', 'import', 'default'];
const NODE = ['node', 'import', 'default'];

interface Manifest {
  name: string;
  private?: boolean;
  exports: Record<string, string | Record<string, string>>;
}

const manifests = new Map<string, { dir: string; manifest: Manifest }>();
for (const dir of readdirSync(packagesDir)) {
  const file = join(packagesDir, dir, 'package.json');
  if (!existsSync(file)) continue;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  manifests.set(manifest.name, { dir: join(packagesDir, dir), manifest });
}

/** The source file behind `pkg/subpath` under `conditions`, or null when no condition matches. */
function resolveExport(name: string, subpath: string, conditions: string[]): string | null {
  const pkg = manifests.get(name);
  if (!pkg) throw new Error(`unknown package ${name}`);
  const entry = pkg.manifest.exports[subpath];
  if (entry === undefined) throw new Error(`${name} does not export ${subpath}`);
  const target = typeof entry === 'string' ? entry : conditions.map((c) => entry[c]).find((t) => t !== undefined);
  if (target === undefined) return null;
  return join(pkg.dir, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|\bimport\('([^']+)'\)/g;

/** Every module reachable from `entry`: relative files, @xmppkit packages (resolved with `conditions`) and bare specifiers. */
function graph(entry: string, conditions: string[]): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const match of source.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec) continue;
      if (/^import\s+type\b|^export\s+type\b/.test(match[0].trim())) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('@xmppkit/')) {
        const [scope, name, ...rest] = spec.split('/');
        const target = resolveExport(`${scope}/${name}`, rest.length > 0 ? `./${rest.join('/')}` : '.', conditions);
        if (target === null) external.add(`${spec} (no ${conditions[0]} entry)`);
        else visit(target);
      } else external.add(spec);
    }
  };
  visit(entry);
  return { files, external };
}

const nodeOnly = (spec: string): boolean => spec === 'ws' || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0] ?? spec);

const publicEntries = [...manifests.values()]
  .filter(({ manifest }) => !manifest.private)
  .flatMap(({ manifest }) => Object.keys(manifest.exports).filter((s) => s !== './package.json').map((subpath) => ({ name: manifest.name, subpath })));

describe('browser entries', () => {
  it('covers every public package entry', () => {
    expect(publicEntries.length).toBeGreaterThanOrEqual(16);
    expect(publicEntries.map((e) => e.name)).toContain('@xmppkit/client');
  });

  it.each(publicEntries)('$name $subpath reaches no Node.js built-in and no ws', ({ name, subpath }) => {
    const entry = resolveExport(name, subpath, BROWSER);
    if (entry === null) {
      // A Node-only entry must say so with a `node` condition and offer nothing to browsers.
      const exp = manifests.get(name)?.manifest.exports[subpath];
      expect(typeof exp === 'object' && exp.node).toBeTruthy();
      return;
    }
    const { files, external } = graph(entry, BROWSER);
    expect(files.size).toBeGreaterThan(0);
    expect([...external].filter(nodeOnly)).toEqual([]);
  });

  it('the client graph is the whole SDK, and under Node conditions it does reach ws (the walker sees imports)', () => {
    const clientEntry = resolveExport('@xmppkit/client', '.', BROWSER);
    expect(clientEntry).not.toBeNull();
    const browser = graph(clientEntry as string, BROWSER);
    expect(browser.files.size).toBeGreaterThan(30);
    expect([...browser.external]).toEqual([]); // no third-party module at all
    const node = graph(resolveExport('@xmppkit/client', '.', NODE) as string, NODE);
    expect(node.external.has('ws')).toBe(true);
  });

  it('the file store is Node-only: browsers get no entry for it', () => {
    expect(resolveExport('@xmppkit/stream-management', './file-store', BROWSER)).toBeNull();
    const node = graph(resolveExport('@xmppkit/stream-management', './file-store', NODE) as string, NODE);
    expect([...node.external].some(nodeOnly)).toBe(true);
  });
});
