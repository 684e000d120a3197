// The integration tests' fault-injection proxy (test/support/fault-proxy.ts), loaded from plain Node:
// the TypeScript source is transpiled once (types stripped, nothing else) into bench/.cache/, so the
// benchmark and the tests share one implementation and the test file stays as it is.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../../test/support/fault-proxy.ts', import.meta.url));
const cacheDir = fileURLToPath(new URL('../.cache/', import.meta.url));
const target = `${cacheDir}fault-proxy.mjs`;

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Transpile test/support/fault-proxy.ts into bench/.cache/fault-proxy.mjs when it is missing or stale. */
export function buildFaultProxy() {
  if (mtime(target) >= mtime(source)) return target;
  const ts = createRequire(import.meta.url)('typescript');
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, useDefineForClassFields: true },
  });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${target}.${process.pid}.tmp`, `// generated from test/support/fault-proxy.ts by bench/lib/fault-proxy.mjs; do not edit\n${outputText}`);
  renameSync(`${target}.${process.pid}.tmp`, target);
  return target;
}

/** The FaultProxy class. */
export async function loadFaultProxy() {
  const { FaultProxy } = await import(pathToFileURL(buildFaultProxy()).href);
  return FaultProxy;
}
