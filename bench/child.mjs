// One measurement in a fresh Node process: `node --expose-gc bench/child.mjs '<json>'`.
// The runner (bench/run.mjs) starts one of these per client, test and round, and reads the last
// stdout line, `RESULT {...}`. The JSON names the test, the client kind and the server.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, load } from './lib/clients.mjs';
import { loadFaultProxy } from './lib/fault-proxy.mjs';

const params = JSON.parse(process.argv[2]);
const { kind, test, server } = params;
const now = () => performance.now();
const tag = `${test}-${kind}-${process.pid}`;

function account(i = 0) {
  const names = params.accounts ?? Object.keys(server.accounts);
  const username = names[i % names.length];
  return { username, password: server.accounts[username] };
}

function options(extra = {}) {
  return { service: server.service, domain: server.domain, mechanism: 'SCRAM-SHA-1', resource: tag, ...account(0), ...extra };
}

/** Several full collections, with turns of the event loop in between (finalizers, ws buffers). */
async function collect() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await sleep(20);
  }
}

function memory() {
  const m = process.memoryUsage();
  return { heapExternal: m.heapUsed + m.external, heapUsed: m.heapUsed, external: m.external, rss: m.rss };
}

/** The server's CPU time in ms (utime + stime of its pid, from /proc), or null. */
function serverCpu() {
  if (!server.pid) return null;
  try {
    const stat = readFileSync(`/proc/${server.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / (params.clockTicks || 100);
  } catch {
    return null;
  }
}

const cpuMs = (u) => (u.user + u.system) / 1000;

/** With `profile` (a file name; `node bench/run.mjs --prof`), a CPU profile of the measured interval only. */
const profiler = {
  session: null,
  async start() {
    if (!params.profile) return;
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 100 });
    await this.session.post('Profiler.start');
  },
  async stop() {
    if (!this.session) return;
    const { profile } = await this.session.post('Profiler.stop');
    writeFileSync(params.profile, JSON.stringify(profile));
    this.session.disconnect();
    this.session = null;
  },
};

/** Start clients `limit` at a time; returns the failures. */
async function startAll(clients, limit) {
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < clients.length) {
      const c = clients[next++];
      try {
        c.enabledAt = await c.start();
      } catch (err) {
        failures.push(err instanceof Error ? `${err.name}${err.message ? `: ${err.message}` : ''}` : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, clients.length) }, worker));
  return failures;
}

async function stopAll(clients) {
  for (let i = 0; i < clients.length; i += 100) {
    await Promise.all(clients.slice(i, i + 100).map((c) => Promise.race([c.stop().catch(() => undefined), sleep(15_000)])));
  }
}

const tests = {
  /** `count` sequential logins on one client object: start() → <enabled/>, then a clean stop(). */
  async login(lib) {
    const c = createClient(kind, lib, options({ mechanism: params.mechanism }));
    const times = [];
    await profiler.start();
    for (let i = 0; i < params.count; i++) {
      const t0 = now();
      const at = await c.start();
      times.push(at - t0);
      await c.stop();
    }
    await profiler.stop();
    return { times };
  },

  /**
   * `count` headline messages to our own bare JID (discarded by the server) or, with `echo`, to our own
   * full JID (each one comes back). At most `window` stanzas unacknowledged at a time; done when the
   * server's h covers all of them (and, with echo, all have come back). A first, unmeasured burst of
   * `warmup` stanzas lets the JIT settle, so the figure is the steady cost per stanza.
   */
  async send(lib) {
    const c = createClient(kind, lib, options());
    await c.start();
    const jid = kind === 'raw' ? c.raw.jid : c.xmpp.jid.toString();
    const to = params.echo ? jid : jid.split('/')[0];
    const n = params.count;
    const warmup = params.warmup ?? 0;
    const W = params.window;
    if (kind === 'raw') {
      // The floor writes strings built before the clock starts.
      const prebuilt = Array.from({ length: warmup + n }, (_, i) => `<message xmlns="jabber:client" type="headline" to="${to}" id="m${i}"><body>benchmark stanza ${i}</body></message>`);
      c.send = (i) => c.raw.send(prebuilt[i]);
    }
    // Wake the waiting loop on incoming messages as well as on acks.
    const progress = [];
    const wake = () => progress.splice(0).forEach((r) => r());
    const wait = () => new Promise((r) => progress.push(r));
    if (kind === 'raw') {
      c.raw.onAck = wake;
      c.raw.onMessage = wake;
    } else {
      c.xmpp.on('stanza', wake);
      c.xmpp.streamManagement.on('ack', wake);
    }
    /** Send stanzas [from, to) and wait until all are acked (and back, with echo). */
    const burst = async (from, end) => {
      let next = from;
      while (next < end) {
        while (next < end && next - c.acked < W) await c.send(next++, to);
        if (next < end) await wait();
      }
      c.flush();
      while (c.acked < end || (params.echo && c.received < end)) await wait();
    };
    await burst(0, warmup);
    await sleep(200);
    await collect();
    await profiler.start();
    const s0 = serverCpu();
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await burst(warmup, warmup + n);
    const wallMs = now() - t0;
    const cpu = cpuMs(process.cpuUsage(cpu0));
    const s1 = serverCpu();
    await profiler.stop();
    await c.stop();
    return { count: n, warmup, wallMs, cpuMs: cpu, serverCpuMs: s0 === null || s1 === null ? null : s1 - s0, received: c.received - warmup };
  },

  /**
   * Through the fault proxy: a message sent into a blackhole, then a cut. Time from the cut to the
   * session resumed, and to that message acknowledged. `count` cuts per process.
   */
  async resume(lib) {
    const FaultProxy = await loadFaultProxy();
    const proxy = new FaultProxy({ target: { host: server.host, port: server.httpPort } });
    await proxy.start();
    const c = createClient(kind, lib, options({ service: proxy.url(), reconnect: true }));
    await c.start();
    const bare = (kind === 'raw' ? c.raw.jid : c.xmpp.jid.toString()).split('/')[0];
    const resumed = [];
    const acked = [];
    let id = 0;
    // The first cut (i = -1) is a warm-up (first reconnection: cold code), not reported.
    for (let i = -1; i < params.count; i++) {
      if (i === 0) await profiler.start();
      await sleep(300); // let earlier acks settle
      const target = c.acked + 1;
      proxy.blackhole(true);
      await c.send(`stuck${id++}`, bare);
      await sleep(50);
      const gotResumed = new Promise((resolve) => (c.onResumed = () => resolve(now())));
      const t0 = now();
      proxy.cut();
      proxy.blackhole(false);
      const tResumed = await Promise.race([gotResumed, sleep(30_000).then(() => null)]);
      if (tResumed === null) throw new Error('not resumed within 30 s');
      const deadline = now() + 30_000;
      while (c.acked < target) {
        if (now() > deadline) throw new Error('the stuck message was not acknowledged within 30 s');
        await Promise.race([c.waitAck(), sleep(100)]);
      }
      if (i < 0) continue;
      resumed.push(tResumed - t0);
      acked.push(now() - t0);
    }
    await profiler.stop();
    await c.stop();
    await proxy.close();
    return { resumed, acked };
  },

  /**
   * `count` connected idle clients in this process: (heapUsed + external) after GC, minus the same
   * before the first client, divided by the count. With `concurrent`, all start at once and the time
   * until every one has Stream Management enabled is reported too (the scale test).
   */
  async idle(lib) {
    const n = params.count;
    // The baseline: the library loaded and warm (a few clients logged in and out, so that code compiled
    // and state created lazily on first use are not charged to the clients), no client alive.
    const warm = Array.from({ length: Math.min(10, n) }, (_, i) => createClient(kind, lib, options({ ...account(i), resource: `${tag}-warm-${i}`, mechanism: params.mechanism })));
    await startAll(warm, warm.length);
    await stopAll(warm);
    warm.length = 0;
    await collect();
    const before = memory();
    const clients = [];
    for (let i = 0; i < n; i++) {
      clients.push(createClient(kind, lib, options({ ...account(i), resource: `${tag}-${i}`, mechanism: params.mechanism, timeout: params.timeout })));
    }
    const t0 = now();
    const failures = await startAll(clients, params.concurrent ? n : 50);
    const online = clients.filter((c) => c.enabledAt);
    const allMs = online.length ? Math.max(...online.map((c) => c.enabledAt)) - t0 : null;
    await sleep(1000);
    await collect();
    const after = memory();
    const per = (k) => (after[k] - before[k]) / online.length;
    await stopAll(online);
    return {
      count: n,
      online: online.length,
      failures: failures.length,
      failure: failures[0],
      allMs,
      bytesPerClient: per('heapExternal'),
      heapPerClient: per('heapUsed'),
      externalPerClient: per('external'),
      rssPerClient: per('rss'),
    };
  },
};

// A library that throws from a callback would end a real application; here it is counted and reported.
const uncaught = [];
process.on('uncaughtException', (err) => uncaught.push(err?.message ?? String(err)));

const lib = await load(kind);
const run = tests[test === 'echo' ? 'send' : test === 'memory' || test === 'scale' ? 'idle' : test];
if (!run) throw new Error(`unknown test ${test}`);
try {
  const result = await run(lib);
  if (uncaught.length) result.uncaught = [...new Set(uncaught)];
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (err) {
  process.stdout.write(`RESULT ${JSON.stringify({ error: err?.stack ?? String(err) })}\n`);
  process.exit(1);
}
