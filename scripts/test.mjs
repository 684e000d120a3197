#!/usr/bin/env node
// The test command: runs every vitest project (unit; integration and browser, against the private
// Prosody and ejabberd), then proves that every test file in the repository was collected and ran,
// and prints the counts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const globs = JSON.parse(readFileSync(join(root, 'test/globs.json'), 'utf8'));
const report = join(root, 'test-results/vitest.json');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.prosody', '.ejabberd', 'test-results', 'coverage']);
const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;

/** Every file that looks like a test, wherever it is. */
function findTestFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) findTestFiles(join(dir, entry.name), out);
    } else if (TEST_FILE.test(entry.name)) out.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
  }
  return out;
}

function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '(?:.*/)?';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const projectOf = (file) => Object.keys(globs).find((name) => globs[name].some((g) => globToRegExp(g).test(file)));

const files = findTestFiles(root);
const stray = files.filter((f) => !projectOf(f));
if (stray.length > 0) {
  console.error(`These test files match no test glob (test/globs.json) and would never run:\n  ${stray.join('\n  ')}`);
  process.exit(1);
}

// No `any` in a published signature: scan every emitted declaration file (comments stripped).
const anyInTypes = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dist = join(root, 'packages', pkg, 'dist');
  if (!existsSync(dist)) continue;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.d.ts')) {
        const code = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
        if (/\bany\b/.test(code)) anyInTypes.push(relative(root, path));
      }
    }
  };
  walk(dist);
}
if (anyInTypes.length > 0) {
  console.error(`\`any\` in published type declarations:\n  ${anyInTypes.join('\n  ')}`);
  process.exit(1);
}
console.log('type declarations: no `any` in any package');

mkdirSync(join(root, 'test-results'), { recursive: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
if (!existsSync(report)) {
  console.error('vitest wrote no report');
  process.exit(run.status || 1);
}

const result = JSON.parse(readFileSync(report, 'utf8'));
const ran = new Set(result.testResults.map((t) => relative(root, t.name).split(sep).join('/')));
const counts = {};
for (const name of Object.keys(globs)) counts[name] = { files: 0, passed: 0, failed: 0, skipped: 0, ejabberd: 0 };
for (const file of result.testResults) {
  const rel = relative(root, file.name).split(sep).join('/');
  const c = counts[projectOf(rel)];
  c.files++;
  // a file named after ejabberd talks to the private ejabberd (the others, to Prosody)
  const againstEjabberd = /ejabberd/.test(rel);
  for (const a of file.assertionResults) {
    if (a.status === 'passed') {
      c.passed++;
      if (againstEjabberd) c.ejabberd++;
    } else if (a.status === 'failed') c.failed++;
    else c.skipped++;
  }
}

const filtered = process.argv.length > 2;
const missing = filtered ? [] : files.filter((f) => !ran.has(f));
let ok = run.status === 0;
console.log('\n===== test counts =====');
for (const [name, c] of Object.entries(counts)) {
  const labels = { integration: 'integration (against the private Prosody and ejabberd)', browser: 'browser (real Chromium, against the private Prosody and ejabberd)' };
  const label = labels[name] ?? name;
  console.log(`${label}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${c.files} files`);
  if (name === 'integration' || name === 'browser') console.log(`  of which against ejabberd: ${c.ejabberd} passed`);
}
console.log(`test files on disk: ${files.length}; collected and run: ${ran.size}`);
if (missing.length > 0) {
  ok = false;
  console.error(`test files that did not run:\n  ${missing.join('\n  ')}`);
}
const total = Object.values(counts).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed, skipped: a.skipped + c.skipped }), { passed: 0, failed: 0, skipped: 0 });
if (!filtered) {
  for (const [name, c] of Object.entries(counts)) {
    if (c.passed === 0) {
      ok = false;
      console.error(`no ${name} test passed: that is a broken run, not a green one`);
    }
  }
  if (total.skipped > 0) {
    ok = false;
    console.error(`${total.skipped} tests were skipped; every test must run`);
  }
}
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(ok ? 0 : 1);
