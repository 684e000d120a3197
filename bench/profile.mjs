#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node bench/run.mjs --prof`, in bench/.prof/): self time by
// function and by package, and the total time of the functions you name.
//
//   node bench/profile.mjs bench/.prof/send-xmppkit-r1.cpuprofile [--top 30] [--grep Element]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (!file) {
  console.error('usage: node bench/profile.mjs FILE.cpuprofile [--top N] [--grep NAME]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const top = Number(opt('top', 30));
const grep = opt('grep', null);

const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample intervals.
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = deltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const short = url
    .replace(/.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/.*\/packages\//, 'packages/')
    .replace(/.*\/bench\//, 'bench/');
  return short ? `${short}:${cf.lineNumber + 1}` : '';
};
const pkgOf = (cf) => {
  const url = cf.url;
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  let m = /\/packages\/([^/]+)\//.exec(url);
  if (m && !url.includes('node_modules')) return `@xmppkit/${m[1]}`;
  m = /\/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node:internal';
  if (url.includes('/bench/')) return 'bench';
  return url;
};

const byFn = new Map();
const byPkg = new Map();
for (const [id, t] of self) {
  const cf = nodes.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${where(cf)}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const p = pkgOf(cf);
  byPkg.set(p, (byPkg.get(p) ?? 0) + t);
}
const ms = (us) => (us / 1000).toFixed(1).padStart(8);
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;

console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log('\nself time by package');
for (const [k, t] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${ms(t)} ms ${pct(t)}  ${k}`);
console.log('\nself time by function');
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(t)} ms ${pct(t)}  ${k}`);

if (grep) {
  // Inclusive time of every function whose name matches: its samples and those of its callees.
  const inclusive = new Map();
  for (const [id, t] of self) {
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const cf = nodes.get(n).callFrame;
      if (!cf.functionName.includes(grep)) continue;
      const key = `${cf.functionName}  ${where(cf)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  console.log(`\ninclusive time of functions matching "${grep}"`);
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(t)} ms ${pct(t)}  ${k}`);
}
