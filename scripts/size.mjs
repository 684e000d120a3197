#!/usr/bin/env node
// Prints the raw, gzip and brotli sizes of the browser bundle; with --check, fails above the budget.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const BUDGET_GZIP = 12_000;
const file = new URL('../packages/client/dist/xmppkit.min.js', import.meta.url);
const code = readFileSync(file);
const gzip = gzipSync(code, { level: 9 }).length;
const brotli = brotliCompressSync(code).length;
console.log(`xmppkit.min.js: ${code.length} bytes raw, ${gzip} gzip, ${brotli} brotli (budget ${BUDGET_GZIP} gzip)`);
if (process.argv.includes('--check') && gzip > BUDGET_GZIP) {
  console.error(`the browser bundle is ${gzip - BUDGET_GZIP} bytes gzip over its budget`);
  process.exit(1);
}
