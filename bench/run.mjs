#!/usr/bin/env node
// The benchmark runner: `pnpm bench` (builds the packages and the browser bundle first).
//
//   node bench/run.mjs [--smoke] [--rounds N] [--tests login-scram,send,…] [--clients xmppkit,raw]
//                      [--logins N] [--stanzas N] [--warmup N] [--cuts N] [--idle N] [--scale N]
//                      [--no-write | --write] [--prof] [--keep-server]
//   node bench/run.mjs --render bench/results/latest.json    (rewrite the docs from a saved run)
//
// It starts a private Prosody of its own (scripts/prosody.sh with its own state directory and ports,
// 16222/16280 unless XMPPKIT_BENCH_C2S_PORT / XMPPKIT_BENCH_HTTP_PORT say otherwise, so it never
// meets the tests' instance on 15222/15280), then measures xmppkit (packages/client/dist), xmpp.js
// (@xmpp/client 0.14) and a raw `ws` client, each measurement in a fresh Node process
// (bench/child.mjs), interleaved round by round, and prints median [min..max] over the rounds with the
// ratios xmppkit/raw and xmppkit/xmpp.js. A full run rewrites docs/benchmarks.md (keeping the part
// between the notes markers) and bench/results/latest.json; --smoke (tiny sizes, one round, for CI)
// writes neither, nor does a run limited by --tests or --clients (unless --write): those go to
// bench/results/partial.json.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { KINDS, LABELS } from './lib/clients.mjs';
import { buildFaultProxy } from './lib/fault-proxy.mjs';
import { fmtRatio, median, num, ratio, spread, summary } from './lib/stats.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const rel = (p) => new URL(p, `file://${root}`).pathname;

// ---- options ----

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const value = (name) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
};
if (flag('help') || flag('h')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const smoke = flag('smoke');
const SIZES = smoke
  ? { rounds: 1, logins: 3, xmppjsScramLogins: 1, stanzas: 50, warmup: 10, window: 500, cuts: 1, xmppjsCuts: 1, idle: 5, scale: 20 }
  : { rounds: 5, logins: 20, xmppjsScramLogins: 5, stanzas: 5000, warmup: 1000, window: 500, cuts: 10, xmppjsCuts: 3, idle: 200, scale: 1000 };
for (const key of ['rounds', 'logins', 'stanzas', 'warmup', 'cuts', 'idle', 'scale']) if (value(key)) SIZES[key] = Number(value(key));
// --render FILE: no run, rewrite docs/benchmarks.md from a saved record (bench/results/latest.json).
const rendered = value('render') ? JSON.parse(readFileSync(value('render'), 'utf8')) : null;
if (rendered) Object.assign(SIZES, rendered.sizes);
// Only a run of everything rewrites the docs (or --write says so).
const write = !smoke && !flag('no-write') && (flag('write') || (!value('tests') && !value('clients')));
const prof = flag('prof');
const keepServer = flag('keep-server');
const ALL_TESTS = ['login-scram', 'login-plain', 'send', 'echo', 'resume', 'memory', 'scale'];
const selected = value('tests') ? value('tests').split(',') : ALL_TESTS;
for (const t of selected) if (!ALL_TESTS.includes(t) && t !== 'bundle') throw new Error(`unknown test ${t} (known: ${ALL_TESTS.join(', ')}, bundle)`);
const kinds = rendered?.kinds ?? (value('clients') ? value('clients').split(',') : KINDS);

const ports = {
  c2s: process.env.XMPPKIT_BENCH_C2S_PORT ?? '16222',
  http: process.env.XMPPKIT_BENCH_HTTP_PORT ?? '16280',
};
const prosodyEnv = {
  ...process.env,
  XMPPKIT_PROSODY_DIR: process.env.XMPPKIT_BENCH_PROSODY_DIR ?? rel('bench/.prosody'),
  XMPPKIT_PROSODY_C2S_PORT: ports.c2s,
  XMPPKIT_PROSODY_HTTP_PORT: ports.http,
  XMPPKIT_PROSODY_LOG_LEVEL: 'warn',
  // 1000 clients connecting at once overflow Prosody's default listen backlog (128).
  XMPPKIT_PROSODY_TCP_BACKLOG: '4096',
};

// ---- helpers ----

/** Run with the open-files limit raised to the hard limit (1000 sockets per process in the scale test). */
const RAISE = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; exec "$0" "$@"';

function prosody(args, { quiet = false } = {}) {
  return execFileSync('bash', ['-c', RAISE, 'bash', rel('scripts/prosody.sh'), ...[].concat(args)], {
    cwd: root,
    env: prosodyEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
  });
}

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

let current = null; // the child being run, to stop it on Ctrl-C
let serverStarted = false;

function cleanup() {
  if (current) current.kill('SIGKILL');
  if (serverStarted && !keepServer) {
    try {
      prosody('down', { quiet: true });
    } catch {
      // reported by prosody.sh itself
    }
    serverStarted = false;
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

const nodeMajor = Number(process.versions.node.split('.')[0]);
const xmppjsWebSocket = process.env.XMPPJS_WEBSOCKET ?? 'native';

/** One measurement in a fresh process; resolves with its RESULT object. */
function child(params, name) {
  const flags = ['--expose-gc'];
  // @xmpp/websocket needs the global WebSocket: built in from Node 22, behind a flag on Node 20.
  if (params.kind === 'xmppjs' && xmppjsWebSocket === 'native' && nodeMajor < 22) flags.push('--experimental-websocket');
  if (prof) {
    // The measured interval only (login, send, echo, resume), through node:inspector in the child.
    mkdirSync(rel('bench/.prof'), { recursive: true });
    params = { ...params, profile: rel(`bench/.prof/${name}.cpuprofile`) };
  }
  const env = { ...process.env };
  delete env.XMPPKIT_DEBUG;
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', RAISE, process.execPath, ...flags, rel('bench/child.mjs'), JSON.stringify(params)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    current = p;
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 15 * 60_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      const line = out.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      let result;
      try {
        result = line ? JSON.parse(line.slice(7)) : { error: `no result (exit ${code ?? signal})` };
      } catch {
        result = { error: `unreadable result: ${line}` };
      }
      if (result.error) result.error += err ? `\n${err.trim().split('\n').slice(-15).join('\n')}` : '';
      resolve(result);
    });
  });
}

// ---- what is measured ----

const TESTS = {
  'login-scram': (kind) => ({ test: 'login', mechanism: 'SCRAM-SHA-1', accounts: ['user1'], count: kind === 'xmppjs' ? Math.min(SIZES.logins, SIZES.xmppjsScramLogins) : SIZES.logins }),
  'login-plain': () => ({ test: 'login', mechanism: 'PLAIN', accounts: ['user1'], count: SIZES.logins }),
  send: () => ({ test: 'send', echo: false, accounts: ['user2'], count: SIZES.stanzas, warmup: SIZES.warmup, window: SIZES.window }),
  echo: () => ({ test: 'echo', echo: true, accounts: ['user3'], count: SIZES.stanzas, warmup: SIZES.warmup, window: SIZES.window }),
  resume: (kind) => ({ test: 'resume', accounts: ['user4'], count: kind === 'xmppjs' ? Math.min(SIZES.cuts, SIZES.xmppjsCuts) : SIZES.cuts }),
  memory: () => ({ test: 'memory', count: SIZES.idle, mechanism: 'PLAIN', concurrent: false }),
  // Prosody needs ~10 s for 1000 logins: the libraries' per-step deadlines (xmppkit 10 s, xmpp.js 2 s) are raised.
  scale: () => ({ test: 'scale', count: SIZES.scale, mechanism: 'PLAIN', concurrent: true, timeout: 60_000 }),
};

const perK = (r) => 1000 / r.count;
/** The rows of the table: one number per round and client. */
const METRICS = [
  { id: 'login-scram', test: 'login-scram', label: 'login, SCRAM-SHA-1 (ms, start() → SM enabled, median of the process)', get: (r) => median(r.times) },
  { id: 'login-scram-first', test: 'login-scram', label: 'login, SCRAM-SHA-1, first of the process (ms, PBKDF2 and cold code)', get: (r) => r.times[0] },
  { id: 'login-plain', test: 'login-plain', label: 'login, PLAIN (ms, median of the process)', get: (r) => median(r.times) },
  { id: 'send-cpu', test: 'send', label: 'send: client CPU per 1000 stanzas (ms)', get: (r) => r.cpuMs * perK(r) },
  { id: 'send-rate', test: 'send', label: 'send: stanzas/s (until the last is acked)', get: (r) => r.count / (r.wallMs / 1000), higher: true },
  { id: 'send-server', test: 'send', label: 'send: Prosody CPU per 1000 stanzas (ms)', get: (r) => (r.serverCpuMs === null ? null : r.serverCpuMs * perK(r)) },
  { id: 'echo-cpu', test: 'echo', label: 'echo: client CPU per 1000 stanzas (ms)', get: (r) => r.cpuMs * perK(r) },
  { id: 'echo-rate', test: 'echo', label: 'echo: stanzas/s (all back and acked)', get: (r) => r.count / (r.wallMs / 1000), higher: true },
  { id: 'resume', test: 'resume', label: 'resume, SCRAM-SHA-1: cut → resumed (ms)', get: (r) => median(r.resumed) },
  { id: 'resume-acked', test: 'resume', label: 'resume, SCRAM-SHA-1: cut → stuck message acked (ms)', get: (r) => median(r.acked) },
  { id: 'memory', test: 'memory', label: `memory: heap + external per idle client (KiB, ${SIZES.idle} clients)`, get: (r) => (r.failures ? null : r.bytesPerClient / 1024) },
  { id: 'scale-time', test: 'scale', label: `scale: ${SIZES.scale} clients at once → all SM enabled (s)`, get: (r) => (r.failures ? null : r.allMs / 1000) },
  { id: 'scale-memory', test: 'scale', label: `scale: heap + external per client (KiB, ${SIZES.scale} clients)`, get: (r) => (r.failures ? null : r.bytesPerClient / 1024) },
];

// ---- the run ----

function machine() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  const about = (() => {
    try {
      return execFileSync('prosodyctl', ['--config', `${prosodyEnv.XMPPKIT_PROSODY_DIR}/prosody.cfg.lua`, 'about'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    } catch (e) {
      return e.stdout ?? '';
    }
  })();
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(rel(`node_modules/${name}/package.json`), 'utf8')).version;
    } catch {
      return 'unknown';
    }
  };
  let wsVersion = 'unknown';
  try {
    wsVersion = JSON.parse(readFileSync(rel('packages/websocket/node_modules/ws/package.json'), 'utf8')).version;
  } catch {
    wsVersion = pkg('ws');
  }
  const osRelease = (() => {
    try {
      return /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  })();
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: os.totalmem() / 2 ** 30,
    os: `${osRelease ?? os.type()} (kernel ${os.release()}, ${os.arch()})`,
    node: process.version,
    prosody: /^Prosody (\d\S*)/m.exec(about)?.[1] ?? 'unknown',
    lua: /Lua version:\s*(.+)/.exec(about)?.[1]?.trim() ?? 'unknown',
    backend: /Backend:\s*(\S+)/.exec(about)?.[1] ?? 'unknown',
    xmppjs: pkg('@xmpp/client'),
    ws: wsVersion,
    commit: sh('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown',
    dirty: (sh('git', ['status', '--porcelain', '--', 'packages']) ?? '') !== '',
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    load: os.loadavg()[0],
  };
}

function bundle() {
  const sizes = (file) => {
    if (!existsSync(file)) return null;
    const code = readFileSync(file);
    return {
      raw: code.length,
      gzip: gzipSync(code, { level: 9 }).length,
      brotli: brotliCompressSync(code).length,
      // the mechanism name is either written out or built from 'SCRAM-' and the hash name
      scram: code.includes('SCRAM-SHA-1') || (code.includes('SCRAM-') && /["'`]SHA-1["'`]/.test(code.toString())),
    };
  };
  return {
    xmppkit: sizes(rel('packages/client/dist/xmppkit.min.js')),
    xmppjs: sizes(rel('node_modules/@xmpp/client/dist/xmpp.min.js')),
  };
}

async function main() {
  if (!existsSync(rel('packages/client/dist/index.js'))) throw new Error('packages/client/dist is missing: run `pnpm build` (or `pnpm bench`, which builds)');
  buildFaultProxy();
  const started = Date.now();
  console.log(`bench: ${smoke ? 'smoke run' : 'full run'}, ${SIZES.rounds} round(s), tests ${selected.join(', ')}, clients ${kinds.join(', ')}`);

  const needServer = selected.some((t) => t !== 'bundle');
  let server = null;
  if (needServer) {
    // restart: a leftover instance of an aborted run may hold an older config (the backlog is read at bind time).
    prosody('restart', { quiet: true });
    serverStarted = true;
    server = JSON.parse(prosody(['env', '--json'], { quiet: true }));
    server.pid = Number(readFileSync(`${server.dir}/prosody.pid`, 'utf8').trim());
    console.log(`bench: Prosody pid ${server.pid} on ${server.service} (state ${server.dir})`);
  }
  const clockTicks = Number(sh('getconf', ['CLK_TCK'])) || 100;
  const info = machine();

  const results = {}; // test -> kind -> [result per round]
  const failures = [];
  const tests = selected.filter((t) => t !== 'bundle');
  for (let round = 0; round < SIZES.rounds; round++) {
    for (const test of tests) {
      // Interleaved: each round runs the clients in a different order.
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
      for (const kind of order) {
        const params = { kind, server, clockTicks, ...TESTS[test](kind) };
        const t0 = Date.now();
        const r = await child(params, `${test}-${kind}-r${round + 1}`);
        ((results[test] ??= {})[kind] ??= []).push(r);
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        if (r.error) {
          failures.push({ test, kind, round: round + 1, error: r.error });
          console.log(`[${round + 1}/${SIZES.rounds}] ${test} ${LABELS[kind]}: FAILED (${secs} s)\n${r.error}`);
          continue;
        }
        if (r.failures) failures.push({ test, kind, round: round + 1, error: `${r.failures} of ${r.count} clients failed: ${r.failure}` });
        if (r.uncaught?.length) failures.push({ test, kind, round: round + 1, error: `uncaught exceptions in the client process: ${r.uncaught.join('; ')}` });
        const shown = METRICS.filter((m) => m.test === test)
          .map((m) => `${m.id} ${num(m.get(r))}`)
          .join(', ');
        console.log(`[${round + 1}/${SIZES.rounds}] ${test} ${LABELS[kind]}: ${shown}${r.failures ? ` (${r.failures} failed: ${r.failure})` : ''} (${secs} s)`);
      }
    }
  }
  if (serverStarted && !keepServer) {
    prosody('down', { quiet: true });
    serverStarted = false;
  }

  const elapsed = Math.round((Date.now() - started) / 1000);
  // Others may commit or rebuild while a long run goes on: say so in the report.
  const commitEnd = sh('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  if (commitEnd !== info.commit) info.commitEnd = commitEnd;
  const record = { info, sizes: SIZES, argv, kinds, results, bundle: !value('tests') || selected.includes('bundle') ? bundle() : null, failures, elapsedSeconds: elapsed };
  mkdirSync(rel('bench/results'), { recursive: true });
  writeFileSync(rel(`bench/results/${smoke ? 'smoke' : write ? 'latest' : 'partial'}.json`), `${JSON.stringify(record, null, 1)}\n`);
  report(record, write);
  console.log(`bench: done in ${elapsed} s`);
  return failures.length === 0;
}

/** Print the table and the targets; with `toDoc`, rewrite docs/benchmarks.md. */
function report({ info, results, bundle: sizes, failures, elapsedSeconds }, toDoc) {
  const table = METRICS.filter((m) => results[m.test]).map((m) => {
    const s = Object.fromEntries(kinds.map((k) => [k, summary((results[m.test][k] ?? []).filter((r) => !r.error).map((r) => m.get(r)))]));
    return { ...m, s, vsRaw: ratio(s.xmppkit, s.raw), vsXmppjs: ratio(s.xmppkit, s.xmppjs) };
  });
  const targets = evaluateTargets(table, sizes);
  const markdownTable = renderTable(table, sizes);
  console.log(`\n${markdownTable}\n\n${renderTargets(targets)}\n`);
  if (failures.length) console.log(`bench: ${failures.length} measurement(s) failed:\n${failures.map((f) => `  ${f.test} ${f.kind} round ${f.round}: ${f.error.split('\n')[0]}`).join('\n')}`);
  if (toDoc) {
    writeDoc({ info, table: markdownTable, targets, failures, elapsed: elapsedSeconds });
    console.log('bench: wrote docs/benchmarks.md');
  }
}

// ---- targets ----

function evaluateTargets(table, sizes) {
  const row = (id) => table.find((r) => r.id === id);
  const t = [];
  const vs = (label, id, againstId, limit, note) => {
    const a = row(id)?.s.xmppkit;
    const b = row(againstId)?.s.raw;
    const r = ratio(a, b);
    t.push({ label, measured: r === null ? 'n/a' : `${fmtRatio(r)} (${num(a.median)} vs ${num(b.median)})`, met: r === null ? null : r <= limit, note });
  };
  if (row('send-cpu')) vs('send: client CPU ≤ 1.5× raw', 'send-cpu', 'send-cpu', 1.5);
  if (row('echo-cpu')) vs('echo: client CPU ≤ 1.6× raw', 'echo-cpu', 'echo-cpu', 1.6);
  if (row('login-scram') && row('login-plain')) vs("login: xmppkit SCRAM-SHA-1 ≤ 1.5× raw's PLAIN", 'login-scram', 'login-plain', 1.5);
  if (row('resume')) vs('resume with SCRAM: cut → resumed ≤ 1.5× raw', 'resume', 'resume', 1.5);
  if (row('resume-acked')) vs('resume with SCRAM: cut → stuck message acked ≤ 1.5× raw', 'resume-acked', 'resume-acked', 1.5);
  if (row('memory')) vs('memory per idle client ≤ 2× raw', 'memory', 'memory', 2);
  if (sizes?.xmppkit) {
    const b = sizes.xmppkit;
    t.push({ label: 'browser bundle ≤ 12 000 bytes gzip, SCRAM included', measured: `${num(b.gzip)} bytes gzip, SCRAM ${b.scram ? 'included' : 'missing'}`, met: b.gzip <= 12_000 && b.scram });
  }
  return t;
}

// ---- rendering ----

function renderTable(table, sizes) {
  const head = `| metric | ${kinds.map((k) => LABELS[k]).join(' | ')} | xmppkit/raw | xmppkit/xmpp.js |`;
  const sep = `| --- | ${kinds.map(() => '---:').join(' | ')} | ---: | ---: |`;
  const lines = table.map((r) => `| ${r.label}${r.higher ? ' ↑' : ''} | ${kinds.map((k) => spread(r.s[k])).join(' | ')} | ${fmtRatio(r.vsRaw)} | ${fmtRatio(r.vsXmppjs)} |`);
  if (sizes) {
    const b = (x, key) => (x ? num(x[key]) : 'n/a');
    const r = (key) => (sizes.xmppkit && sizes.xmppjs ? fmtRatio(sizes.xmppkit[key] / sizes.xmppjs[key]) : 'n/a');
    const cell = (k, key) => (k === 'xmppkit' ? b(sizes.xmppkit, key) : k === 'xmppjs' ? b(sizes.xmppjs, key) : '—');
    for (const [key, label] of [
      ['raw', 'browser bundle, minified (bytes)'],
      ['gzip', 'browser bundle, gzip -9 (bytes)'],
      ['brotli', 'browser bundle, brotli (bytes)'],
    ]) {
      lines.push(`| ${label} | ${kinds.map((k) => cell(k, key)).join(' | ')} | — | ${r(key)} |`);
    }
  }
  return [head, sep, ...lines].join('\n');
}

function renderTargets(targets) {
  const mark = (m) => (m === null ? 'n/a' : m ? '**met**' : '**not met**');
  return ['| target | xmppkit measured | |', '| --- | --- | --- |', ...targets.map((t) => `| ${t.label} | ${t.measured} | ${mark(t.met)} |`)].join('\n');
}

const NOTES_BEGIN = '<!-- notes:begin (kept by bench/run.mjs when it rewrites this file) -->';
const NOTES_END = '<!-- notes:end -->';

function writeDoc({ info, table, targets, failures, elapsed }) {
  const file = rel('docs/benchmarks.md');
  let notes = '_No notes yet._';
  if (existsSync(file)) {
    const old = readFileSync(file, 'utf8');
    const a = old.indexOf(NOTES_BEGIN);
    const b = old.indexOf(NOTES_END);
    if (a >= 0 && b > a) notes = old.slice(a + NOTES_BEGIN.length, b).trim();
  }
  const S = SIZES;
  const doc = `# Benchmarks

xmppkit (\`packages/client/dist\`) measured against [\`@xmpp/client\`](https://github.com/xmppjs/xmpp.js)
${info.xmppjs} (xmpp.js) and against a raw WebSocket client that writes pre-built strings (the floor), all
three against the same private Prosody on loopback. Everything but the Notes section is written by
the runner (\`bench/run.mjs\`), which keeps the notes when it rewrites this file.

## Command

\`\`\`sh
pnpm install && pnpm bench     # builds the packages and the browser bundle, then runs bench/run.mjs
\`\`\`

It starts its own Prosody with \`scripts/prosody.sh\` (state in \`bench/.prosody/\`, ports 16222 and 16280,
or \`XMPPKIT_BENCH_C2S_PORT\` / \`XMPPKIT_BENCH_HTTP_PORT\`; the tests' instance on 15222/15280 is never
touched), runs ${S.rounds} rounds, and rewrites this file and \`bench/results/latest.json\` (every
per-process figure). \`pnpm bench --smoke\` (what CI runs) uses tiny sizes and writes neither.
Other options (\`node bench/run.mjs --help\`): \`--rounds N\`, sizes (\`--logins\`, \`--stanzas\`,
\`--warmup\`, \`--cuts\`, \`--idle\`, \`--scale\`), \`--tests login-scram,login-plain,send,echo,resume,memory,scale,bundle\`
and \`--clients xmppkit,xmppjs,raw\` (such partial runs write \`bench/results/partial.json\` only), \`--no-write\`, \`--prof\` (a \`.cpuprofile\` of the measured interval per process in
\`bench/.prof/\`; \`node bench/profile.mjs FILE\` prints its hot functions), \`--keep-server\`;
\`node bench/run.mjs --render bench/results/latest.json\` rewrites this file from a saved run.

## Machine

| | |
| --- | --- |
| CPU | ${info.cpu}, ${info.cores} cores |
| RAM | ${num(info.memGiB, 1)} GiB |
| OS | ${info.os} |
| Node.js | ${info.node} |
| Prosody | ${info.prosody} (${info.lua}, ${info.backend} backend), log level warn, listen backlog 4096 |
| clients | xmppkit at commit ${info.commit}${info.dirty ? ' plus uncommitted changes in packages/' : ''}${info.commitEnd ? ` (HEAD moved to ${info.commitEnd} during the run)` : ''}; @xmpp/client ${info.xmppjs} on Node's built-in WebSocket${nodeMajor < 22 ? ' (\`--experimental-websocket\`)' : ''}; raw on ws ${info.ws} |
| run | ${info.date}, ${S.rounds} rounds, ${Math.round(elapsed / 60)} min; 1-min load average at the start: ${num(info.load, 2)} |

## Results

Each cell is the median over ${S.rounds} rounds, [min..max] across rounds; each round runs every client
in a fresh process, clients interleaved (their order rotates every round). Lower is better except ↑.
Ratios are of the medians.

${table}

## Targets

${renderTargets(targets)}
${failures.length ? `\n**${failures.length} measurement(s) failed in this run**, so some cells lack rounds:\n\n${failures.map((f) => `- ${f.test}, ${LABELS[f.kind]}, round ${f.round}: ${f.error.split('\n')[0]}`).join('\n')}\n` : ''}
## Notes

${NOTES_BEGIN}
${notes}
${NOTES_END}

## What is measured

- **login**: one client object per process logs in ${S.logins} times in a row (xmpp.js with SCRAM: ${S.xmppjsScramLogins}, each
  takes seconds), \`start()\` → Stream Management enabled (xmppkit's \`enabled\` event; for xmpp.js,
  whose \`online\` comes before \`<enable/>\`, the moment it sets \`streamManagement.enabled\`; for raw,
  \`<enabled/>\`), then a clean \`stop()\` that is not timed. The row is the median of those logins;
  the first login of the process (cold code, and PBKDF2 with SCRAM) has its own row. SCRAM-SHA-1 is
  what xmppkit's and xmpp.js's defaults choose on Prosody (10 000 iterations); PLAIN is forced with
  \`sasl.mechanisms\` (xmppkit) and the \`credentials\` callback (xmpp.js). xmppkit keeps the salted keys
  in the client object (\`xmpp.sasl.scramCache\`), so every login after the first, and every resumption,
  skips PBKDF2: that is what an application that reuses its client object gets. The raw client
  caches its keys per client object the same way; xmpp.js does not cache them (\`sasl-scram-sha-1\`
  only reuses keys passed back in the credentials, which its client never does). Prosody stores
  hashed passwords, so a PLAIN login costs the server a PBKDF2 and SCRAM does not.
- **send**: after login and an unmeasured burst of ${num(S.warmup)} (so that the figure is the steady cost,
  not the JIT warming up), ${num(S.stanzas)} \`<message type='headline'>\` stanzas with a short body to the
  client's own bare JID (Prosody discards them: no resource is available), at most ${S.window}
  unacknowledged at a time (below xmppkit's default \`maxQueue\` of 1000), each built with the
  library's \`xml()\` and sent with \`send()\` (awaited); raw writes strings built before the clock
  starts. All three ask for an ack every 10 stanzas (xmppkit's default \`requestAckAfter\`; raw does
  the same; the xmpp.js adapter sends the \`<r/>\` itself, since xmpp.js only asks 250 ms after a burst)
  and once more after the last. Client CPU is \`process.cpuUsage()\` (user + system) from the first
  send to the ack covering the last; stanzas/s over the same interval (bounded by Prosody, which
  runs on one core). Prosody's own CPU comes from \`/proc/<pid>/stat\` (10 ms ticks).
- **echo**: the same to the client's own full JID, so every stanza comes back and is parsed, counted
  in \`h\` and acknowledged when the server asks; done when all are back and all are acked.
- **resume**: the client connects through the tests' fault proxy (\`test/support/fault-proxy.ts\`,
  transpiled into \`bench/.cache/\`) with SCRAM-SHA-1; the proxy blackholes, one message is sent
  (it is lost), 50 ms later the proxy cuts every connection (TCP RST) and lets traffic through again.
  Timed from the cut to \`resumed\`, and to that message acknowledged; ${S.cuts} cuts per process (xmpp.js: ${S.xmppjsCuts}),
  after one unmeasured warm-up cut; median per process. Reconnection delays are set to 0 (xmppkit \`reconnect.initialDelay\`, xmpp.js
  \`reconnect.delay\`), so the figure is the client's work and not its backoff policy (by default
  xmppkit waits a random 0–1 s, xmpp.js 1 s). Raw reconnects at once, authenticates with SCRAM-SHA-1
  (cached keys) and sends \`<resume/>\`, then re-sends what \`<resumed h/>\` did not cover and an \`<r/>\`.
  xmppkit sends its \`<r/>\` right after re-sending; xmpp.js only after its 250 ms debounce.
- **memory**: ${S.idle} clients logged in (PLAIN, 50 at a time, accounts shared, one resource each) and idle
  in one process; (\`heapUsed\` + \`external\`) after forced GCs, minus the same before the first client
  was created, divided by the number of clients. The baseline is taken warm: 10 clients have logged in
  and out first, so that JIT code and state created on first use are not charged to the clients.
- **scale**: ${num(S.scale)} clients in one process started at once (PLAIN: xmpp.js's SCRAM would take minutes;
  8 accounts, one resource per client); time until every one has Stream Management enabled, and
  memory per client as above. Prosody (single-threaded) is the bottleneck here: a PLAIN login costs it a PBKDF2.
  The clients' per-step deadlines are raised to 60 s (\`timeout\` in both libraries): Prosody takes about
  10 s to work through 1000 logins, and with the defaults (10 s for xmppkit, 2 s for xmpp.js) some
  clients give up while they wait in its queue.
- **bundle**: \`packages/client/dist/xmppkit.min.js\` (built by \`pnpm bundle\`) and
  \`node_modules/@xmpp/client/dist/xmpp.min.js\`, gzip level 9 and brotli defaults. xmpp.js's browser
  bundle leaves SCRAM-SHA-1 out (its \`browser\` field maps \`@xmpp/sasl-scram-sha-1\` to false).
`;
  writeFileSync(file, doc);
}

(rendered ? Promise.resolve().then(() => (report(rendered, true), true)) : main()).then(
  (ok) => {
    cleanup();
    process.exit(ok ? 0 : 1);
  },
  (err) => {
    console.error(err);
    cleanup();
    process.exit(1);
  },
);
