#!/usr/bin/env node
// Prints the raw, gzip and brotli sizes of the browser bundle.
//   --check          fail above the target budget (12 000 bytes gzip, SCRAM included)
//   --ceiling BYTES  fail above BYTES gzip: a guard against the bundle growing while it is above the target
import { readFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const BUDGET_GZIP = 12_000;
const file = new URL('../packages/client/dist/xmppkit.min.js', import.meta.url);
const code = readFileSync(file);
const gzip = gzipSync(code, { level: 9 }).length;
const brotli = brotliCompressSync(code).length;
const at = process.argv.indexOf('--ceiling');
const ceiling = at === -1 ? null : Number(process.argv[at + 1]);
if (ceiling !== null && !(ceiling > 0)) {
  console.error('--ceiling needs a number of bytes');
  process.exit(2);
}
console.log(
  `xmppkit.min.js: ${code.length} bytes raw, ${gzip} gzip, ${brotli} brotli (target ${BUDGET_GZIP} gzip${ceiling ? `, ceiling ${ceiling}` : ''})`,
);
if (process.argv.includes('--check') && gzip > BUDGET_GZIP) {
  console.error(`the browser bundle is ${gzip - BUDGET_GZIP} bytes gzip over its budget`);
  process.exit(1);
}
if (ceiling !== null && gzip > ceiling) {
  console.error(`the browser bundle grew to ${gzip} bytes gzip, above its ceiling of ${ceiling}`);
  process.exit(1);
}
