/**
 * Every package README opens with a runnable example. This test keeps them honest: it takes the first
 * ```js / ```ts block of each packages/*\/README.md (plus any later block that has its own imports, so is
 * meant to run on its own), checks that it imports only what the packages export, and type-checks all of
 * them in one TypeScript program against the packages' sources. A renamed export, a removed option field
 * or a wrong import path breaks it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const packagesDir = join(root, 'packages');

interface PackageJson {
  name: string;
  private?: boolean;
  exports?: Record<string, string | { types?: string }>;
  dependencies?: Record<string, string>;
}

interface Example {
  pkg: Pkg;
  /** 1-based line of the README where the code starts (the line after the fence) */
  line: number;
  lang: 'js' | 'ts';
  code: string;
  /** the virtual file the example is type-checked as, next to the README */
  file: string;
}

interface Pkg {
  dir: string;
  json: PackageJson;
  readme: string;
  examples: Example[];
}

const FENCE = /^```(js|javascript|ts|typescript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;

function readPackages(): Pkg[] {
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(packagesDir, entry.name);
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      const readmePath = join(dir, 'README.md');
      const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
      const pkg: Pkg = { dir, json, readme, examples: [] };
      let index = 0;
      for (const match of readme.matchAll(FENCE)) {
        const lang = (match[1] as string).startsWith('t') ? 'ts' : 'js';
        const code = match[2] as string;
        // The first block is the example; later blocks count when they stand alone (have imports).
        // Blocks without imports continue the example above them and are not checked.
        if (index === 0 || /^import\s/m.test(code)) {
          const line = readme.slice(0, match.index).split('\n').length + 1;
          const file = join(dir, `README.example-${index}.${lang === 'ts' ? 'mts' : 'mjs'}`);
          pkg.examples.push({ pkg, line, lang, code, file });
        }
        index++;
      }
      return pkg;
    });
}

/** `@xmppkit/name` and `@xmppkit/name/sub` for every `exports` entry with types, mapped to the source file. */
function exportedSpecifiers(packages: readonly Pkg[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pkg of packages) {
    for (const [key, target] of Object.entries(pkg.json.exports ?? {})) {
      const types = typeof target === 'object' ? target.types : undefined;
      if (!types) continue; // ./package.json
      const source = join(pkg.dir, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'));
      map.set(pkg.json.name + key.slice(1), source);
    }
  }
  return map;
}

function importsOf(example: Example): string[] {
  const source = ts.createSourceFile(example.file, example.code, ts.ScriptTarget.ES2022, false);
  return source.statements.filter(ts.isImportDeclaration).map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text);
}

const packages = readPackages();
const specifiers = exportedSpecifiers(packages);
const examples = packages.flatMap((pkg) => pkg.examples);
const CANARY = join(packagesDir, 'client', 'README.canary.mjs');
const canaryCode = [
  "import { client, clientX } from '@xmppkit/client';", // an export that does not exist
  "import { fileStore } from '@xmppkit/stream-management/file-store';", // a subpath export: resolves
  "import { isState } from '@xmppkit/stream-management/stores';", // not in `exports`: does not resolve
  "const xmpp = client({ service: 'wss://example.org/ws', servic: 'typo' });", // an unknown option
  "xmpp.streamManagement.sendAckd(fileStore('x'));", // a method that does not exist
].join('\n');

let program: ts.Program;

function diagnosticsOf(file: string, startLine: number, label: string): string[] {
  const source = program.getSourceFile(file);
  if (!source) return [`${label}: not in the program`];
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const { line, character } = source.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${label}:${startLine + line}:${character + 1} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

beforeAll(() => {
  const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, '\n'));
  const converted = ts.convertCompilerOptionsFromJson(
    {
      ...(base.config as { compilerOptions: object }).compilerOptions,
      composite: false,
      incremental: false,
      declaration: false,
      declarationMap: false,
      sourceMap: false,
      noEmit: true,
      allowJs: true,
      checkJs: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules/@types')],
      // `@xmppkit/*` resolves to the sources, as in the unit tests; only paths listed in `exports` exist.
      paths: Object.fromEntries([...specifiers].map(([specifier, source]) => [specifier, [source]])),
    },
    root,
  );
  if (converted.errors.length > 0) throw new Error(converted.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
  const virtual = new Map<string, string>(examples.map((example) => [example.file, example.code]));
  virtual.set(CANARY, canaryCode);
  const host = ts.createCompilerHost(converted.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = virtual.get(fileName);
    return text !== undefined ? ts.createSourceFile(fileName, text, languageVersion, true) : getSourceFile.call(host, fileName, languageVersion, ...rest);
  };
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);
  program = ts.createProgram([...virtual.keys()], converted.options, host);
  expect(program.getOptionsDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  expect(program.getGlobalDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
}, 60_000);

describe('package README examples', () => {
  it('finds every package and maps every export to an existing source file', () => {
    expect(packages.map((pkg) => pkg.json.name)).toEqual(expect.arrayContaining(['@xmppkit/client', '@xmppkit/stream-management', '@xmppkit/xml']));
    expect(specifiers.get('@xmppkit/stream-management/file-store')).toBe(join(packagesDir, 'stream-management/src/file-store.ts'));
    for (const [specifier, source] of specifiers) expect(existsSync(source), `${specifier} -> ${relative(root, source)}`).toBe(true);
  });

  it('type-checks against the real packages: a wrong name, option, method or subpath is an error', () => {
    const found = diagnosticsOf(CANARY, 1, 'canary');
    const codes = found.map((d) => /TS(\d+)/.exec(d)?.[1]);
    expect(found.some((d) => d.includes("'clientX'")), found.join('\n')).toBe(true); // TS2305/2724: no such export
    expect(found.some((d) => d.includes("'@xmppkit/stream-management/stores'")), found.join('\n')).toBe(true); // TS2307
    expect(found.some((d) => d.includes("'servic'")), found.join('\n')).toBe(true); // TS2353/2561: unknown property
    expect(found.some((d) => d.includes("'sendAckd'")), found.join('\n')).toBe(true); // TS2339/2551: no such method
    expect(found.some((d) => d.includes('file-store'))).toBe(false); // the exported subpath resolved
    expect(codes.length).toBe(4);
  });

  for (const pkg of packages) {
    const name = pkg.json.name;
    const readme = relative(root, join(pkg.dir, 'README.md'));

    describe(name, () => {
      it('has a README whose first js/ts code block imports the package or @xmppkit/client', () => {
        expect(pkg.readme, `${readme} is missing`).not.toBe('');
        const first = pkg.examples[0];
        expect(first, `${readme} has no \`\`\`js or \`\`\`ts code block`).toBeDefined();
        const imports = importsOf(first as Example);
        expect(imports.some((specifier) => specifier === name || specifier.startsWith(`${name}/`) || specifier === '@xmppkit/client'), `${readme}: the first example imports ${imports.join(', ') || 'nothing'}`).toBe(true);
      });

      it('imports only exported paths of the packages, Node built-ins and its own dependencies', () => {
        expect(pkg.examples.length).toBeGreaterThan(0);
        for (const example of pkg.examples) {
          for (const specifier of importsOf(example)) {
            const where = `${readme}:${example.line}: import '${specifier}'`;
            if (specifier.startsWith('@xmppkit/')) {
              expect(specifiers.has(specifier), `${where} is not in that package's exports`).toBe(true);
              if (!pkg.json.private) expect(specifier, `${where}: @xmppkit/test is private`).not.toBe('@xmppkit/test');
            } else if (specifier.startsWith('node:') || builtinModules.includes(specifier)) {
              continue;
            } else {
              expect(Object.keys(pkg.json.dependencies ?? {}), `${where} is neither an xmppkit package nor a dependency of ${name}`).toContain(specifier);
            }
          }
        }
      });

      it('type-checks', () => {
        expect(pkg.examples.length).toBeGreaterThan(0);
        const found = pkg.examples.flatMap((example) => diagnosticsOf(example.file, example.line, readme));
        expect(found).toEqual([]);
      });
    });
  }
});
