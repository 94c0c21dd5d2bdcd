// The gates' cost, in one run on this machine:
//   1. throughput: N messages of 100 KB injected into the sending Postfix over 10 parallel
//      connections, timed until the last one is in operator B's mailbox (Dovecot) —
//      through the gates (Postfix A → gate-out A → mutual TLS → gate-in B → Postfix B, the
//      gates of each operator in their own `mss-sidecar serve`, with serve.workers =
//      BENCH_GATE_WORKERS, default 1) versus directly (Postfix → Postfix over TLS) — the
//      anchor; BENCH_ROUNDS rounds (default 5), the two paths in alternating order, min and
//      median with the load average;
//   2. memory: resident set growth of each gate process while it relays one 10 MB message
//      (10,000,000 bytes on the wire).
// Fairness: the same certificates (the test IGC-Santé PKI), TLS on every inter-operator hop
// (mutual TLS both ways: the direct receiver asks for the sender's certificate), the same
// Postfix queue and concurrency settings (10 per destination), the same injection, the same
// mailbox delivery (both receiving Postfixes hand the operator's domain to B's Dovecot over
// LMTP, as an operator's Postfix does; until the night of 2026-12-06 the direct receiver
// delivered with virtual(8) into a maildir, 3.6–3.8 ms of CPU per message less than Dovecot's
// LMTP delivery the gates path pays — BENCH_DIRECT_DELIVERY=virtual gives that old anchor);
// the gates add their rules (liste blanche, DN checks, revocation) and a loopback hop on each
// side. Dovecot B's CPU is counted on both paths.
// Goal (issue 20): gates ≥ 0.9 × direct (issue 4: 0.8); memory growth < 30 MB.
// Also printed: the CPU per message of every process on each path (each Postfix as its
// master's tree, each serve, the injecting bench) and how many of the machine's cores that
// keeps busy — on a machine the other engineers' runs share, a path that needs more CPU per
// message is slower by about that ratio; one that keeps few cores busy waits on round trips.
// BENCH_PIN=1 adds, in each round, one run of each path with the processes pinned by side
// (CPU affinity, `taskset`), a model of "each operator on its own machine, one core each":
// operator A's side — the injecting bench, Postfix A's whole tree, A's serve (gate out) and
// A's idle Dovecot — on CPU 0; operator B's side — B's serve (gate in), Postfix B's whole tree
// and B's Dovecot (Postfix B delivers to it over LMTP) — on CPU 1. The direct path is pinned
// the same way: the injecting bench and the sending Postfix on CPU 0, the receiving Postfix on
// CPU 1. Fairness of that figure: the same pinning for both paths, each side one core in both;
// the injector shares A's core in both paths (it is the same process, pinned once); every
// thread of every process of each side is read back from /proc during the pinned runs and
// the pinned figure is withheld if one was off its side's CPU. It is printed on its own line,
// beside the unpinned figure, which stays the goal's (the rounds without pinning run as
// without BENCH_PIN). It is not a two-machine measurement: the sides still share the disk,
// the memory bus and loopback, and the rest of the machine's load lands on both cores.
// Bounded: BENCH_MESSAGES per run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostfixInstance } from '../sandbox/mta/postfix-instance.js';
import { PostfixConfig } from '../src/perimeter/postfix-config.js';
import { startOperatorWorld } from '../sandbox/operator-world.js';
import { generateTestPki } from '../sandbox/pki.js';
import { CLI } from '../test/helpers/cli.js';
import { freePorts } from '../test/helpers/ports.js';
import { spawnTracked, waitForOutput, type Spawned } from '../test/helpers/processes.js';
import { SmtpClient } from '../test/helpers/smtp-client.js';
import { silent } from '../test/helpers/gates.js';
import { tmpDir } from '../test/helpers/tmp.js';
import { signedList } from '../test/helpers/whitelist.js';
import { AffinityCheck, parseCpuList, pinSide, type Side } from './lib/affinity.js';
import { cpuTreeSeconds, processTree, writeCallsTree } from './lib/cpu.js';
import { clientConnections, serverConnections } from './lib/postfix-connections.js';
import { deliveryDelays } from './lib/postfix-delays.js';
import { loadAverage, median } from './lib/runs.js';
import { fmt } from './lib/stats.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WORKERS = Number(process.env.BENCH_GATE_WORKERS ?? 1);
const PIN = process.env.BENCH_PIN === '1';
/** How the direct path's receiver delivers: 'lmtp' (B's Dovecot, as on the gates path) or 'virtual' (the old anchor). */
const DIRECT_DELIVERY = process.env.BENCH_DIRECT_DELIVERY === 'virtual' ? 'virtual' : 'lmtp';
const GOAL = 0.9;
const PARALLEL = 10;
const SIZE = 100 * 1024;
const FROM = 'alice.martin@ch-sandbox-a.mssante.fr';
const TO = 'bruno.petit@clinique-sandbox-b.mssante.fr';
// Same queue and concurrency settings for both paths.
const CONCURRENCY = { default_destination_concurrency_limit: '10', initial_destination_concurrency: '10', default_process_limit: '100' };

function body(i: number, size: number): string {
  const line = `${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(2)}\r\n`;
  return `From: <${FROM}>\r\nTo: <${TO}>\r\nSubject: bench ${i}\r\n\r\n${line.repeat(Math.ceil(size / line.length))}`;
}

async function inject(port: number, count: number, size: number, tag: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      const c = await SmtpClient.connect(port);
      await c.command('EHLO bench');
      for (let i = next++; i < count; i = next++) {
        await c.command(`MAIL FROM:<${FROM}>`);
        await c.command(`RCPT TO:<${TO}>`);
        const [, r] = await c.data(body(i, size).replace('Subject: bench', `Subject: ${tag}`));
        if (r.code !== 250) throw new Error(`injection refused: ${r.code} ${r.text}`);
      }
      await c.quit();
    }),
  );
}

/** Where a path's messages land: B's mail store and the Postfix whose log explains a shortfall. */
interface Receiver {
  delivered(): string[];
  postfix: PostfixInstance;
}

async function waitDelivered(rx: Receiver, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (rx.delivered().length < count) {
    if (Date.now() > deadline) throw new Error(`only ${rx.delivered().length}/${count} delivered; maillog:\n${rx.postfix.maillog().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function timed(sendPort: number, receiver: Receiver, tag: string): Promise<number> {
  const before = receiver.delivered().length;
  const t0 = process.hrtime.bigint();
  await inject(sendPort, MESSAGES, SIZE, tag);
  await waitDelivered(receiver, before + MESSAGES, 300_000);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Resident set of a process, or of its biggest worker when serve runs several. */
function rssKb(pid: number): number {
  const of = (p: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  const children = fs.existsSync(`/proc/${pid}/task/${pid}/children`)
    ? fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    : [];
  return Math.max(of(pid), ...children.map(of));
}

/** The master of the Dovecot this bench started with `configFile` (a child of this process). */
function dovecotMasterPid(configFile: string): number {
  for (const pid of processTree(process.pid)) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') === 'dovecot' && argv.includes(configFile)) return pid;
  }
  throw new Error(`no Dovecot process of ${configFile} among this bench's children`);
}

async function main(): Promise<void> {
  if (!PostfixInstance.available()) {
    process.stdout.write('gates bench: Postfix is not installed; skipped\n');
    return;
  }
  const dir = tmpDir('mss-bench-gates-');
  const pki = await generateTestPki(path.join(dir, 'pki'));
  const world = await startOperatorWorld({
    dir: path.join(dir, 'world'),
    pki,
    list: Buffer.from(signedList(pki)),
    log: silent,
    mta: 'real',
    daemons: false,
    postfixMain: CONCURRENCY,
    configure: (_op, c) => void (c.serve = { workers: WORKERS }),
  });
  const procs: Spawned[] = [];
  const direct: PostfixInstance[] = [];
  try {
    for (const id of ['A', 'B']) {
      // BENCH_GATE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gate processes.
      const nodeArgs = (process.env.BENCH_GATE_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const p = spawnTracked(process.execPath, [...nodeArgs, CLI, '--config', world.node(id).configFile, 'serve'], {
        env: { ...process.env, MSS_LOG_JSON: '1', MSS_LOG_LEVEL: 'info' },
      });
      procs.push(p);
    }
    await Promise.all(procs.map((p) => waitForOutput(p, (out) => /"msg":"ready"/.test(out), 60_000)));

    // Direct path: the same certificates, Postfix's own TLS client and server.
    const a = pki.operators.find((o) => o.id === 'A');
    const b = pki.operators.find((o) => o.id === 'B');
    if (!a || !b) throw new Error('PKI without A and B');
    const [rxPort, txPort] = await freePorts(2);
    const bNode = world.node('B');
    // The same mailbox delivery as Postfix B's on the gates path: B's domain to B's Dovecot over
    // LMTP (Postfix B's own virtual_transport), unless BENCH_DIRECT_DELIVERY=virtual.
    const delivery: Record<string, string> =
      DIRECT_DELIVERY === 'lmtp'
        ? {
            ...new PostfixConfig((bNode.postfix as PostfixInstance).configDir).params(['virtual_mailbox_maps', 'virtual_transport']),
            virtual_mailbox_domains: b.domains[0] as string,
          }
        : {};
    const receiver = new PostfixInstance({
      dir: path.join(dir, 'direct-rx'),
      myhostname: b.fqdn,
      virtualDomains: [b.domains[0] as string],
      services: [`127.0.0.1:${rxPort} inet n - n - - smtpd`],
      main: {
        smtpd_tls_security_level: 'encrypt',
        smtpd_tls_cert_file: b.cert,
        smtpd_tls_key_file: b.key,
        smtpd_tls_ask_ccert: 'yes',
        ...delivery,
        ...CONCURRENCY,
      },
    });
    const sender = new PostfixInstance({
      dir: path.join(dir, 'direct-tx'),
      myhostname: a.fqdn,
      services: [`127.0.0.1:${txPort} inet n - n - - smtpd`],
      main: {
        default_transport: `smtp:[127.0.0.1]:${rxPort}`,
        smtp_tls_security_level: 'encrypt',
        smtp_tls_cert_file: a.cert,
        smtp_tls_key_file: a.key,
        ...CONCURRENCY,
      },
    });
    direct.push(receiver, sender);
    await receiver.start();
    await sender.start();

    const bPostfix: Receiver = { delivered: () => bNode.delivered(), postfix: bNode.postfix as PostfixInstance };
    const direct_: Receiver = { delivered: () => (DIRECT_DELIVERY === 'lmtp' ? bNode.delivered() : receiver.delivered()), postfix: receiver };
    // Warm-up, then BENCH_ROUNDS rounds of one run each, the order alternating so that both
    // paths see the same machine.
    await timed(world.node('A').ports.inject, bPostfix, 'warm gates');
    await timed(txPort, direct_, 'warm direct');
    const gatePids = procs.map((p) => p.child.pid as number);
    // CPU per message of every process on each path (issue 20: is the path CPU-bound, and
    // where does the gates path spend what the direct one does not?). Each Postfix counts as
    // its master's tree (smtpd, cleanup, qmgr, lmtp/smtp, virtual… and the children it reaped).
    const aPostfixPid = (world.node('A').postfix as PostfixInstance).masterPid() as number;
    const bPostfixPid = (bNode.postfix as PostfixInstance).masterPid() as number;
    const dovecotBPid = dovecotMasterPid((bNode.dovecot as { configFile: string }).configFile);
    const pathProcs = {
      gates: [
        ['Postfix A', aPostfixPid],
        ['gate out (A serve)', gatePids[0] as number],
        ['gate in (B serve)', gatePids[1] as number],
        ['Postfix B', bPostfixPid],
        ['Dovecot B', dovecotBPid],
      ] as Array<[string, number]>,
      direct: [
        ['Postfix sender', sender.masterPid() as number],
        ['Postfix receiver', receiver.masterPid() as number],
        ...(DIRECT_DELIVERY === 'lmtp' ? ([['Dovecot B', dovecotBPid]] as Array<[string, number]>) : []),
      ] as Array<[string, number]>,
    };
    const cpuPerMessage: Record<'gates' | 'direct', number[][]> = { gates: [], direct: [] };
    const injectorMs: Record<'gates' | 'direct', number[]> = { gates: [], direct: [] };
    const measured = async <T>(which: 'gates' | 'direct', run: () => Promise<T>): Promise<T> => {
      const pids = pathProcs[which].map(([, pid]) => pid);
      const cpu0 = pids.map(cpuTreeSeconds);
      const self0 = process.cpuUsage();
      const out = await run();
      const self = process.cpuUsage(self0);
      cpuPerMessage[which].push(pids.map((pid, i) => ((cpuTreeSeconds(pid) - (cpu0[i] ?? 0)) * 1000) / MESSAGES));
      injectorMs[which].push((self.user + self.system) / 1000 / MESSAGES);
      return out;
    };
    const runs = {
      gates: [] as number[],
      direct: [] as number[],
      cpuMs: [] as number[],
      writes: [] as number[][],
      // Per run: new LMTP connections Postfix A opened to gate out, connections gate in opened
      // to Postfix B (one per TLS session between the gates that carried mail), new TLS
      // connections of the direct path's sender.
      lmtpOpened: [] as number[],
      gateSessions: [] as number[],
      directOpened: [] as number[],
      // Per run: Postfix's delays=a/b/c/d medians of the sending Postfix's deliveries (ms).
      delays: { gates: [] as number[][], direct: [] as number[][] },
    };
    const delaysMs = (log: string, service: string): number[] => {
      const d = deliveryDelays(log, service);
      return [d.a, d.b, d.c, d.d].map((x) => x * 1000);
    };
    const aPostfix = world.node('A').postfix as PostfixInstance;
    const logFrom = (pf: PostfixInstance): (() => string) => {
      const at = pf.maillog().length;
      return () => pf.maillog().slice(at);
    };
    // BENCH_PIN=1: both operators' sides, each on its own CPU (see the header).
    const freeCpus = parseCpuList(/^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '');
    const sides: Side[] = [
      {
        name: 'A',
        cpus: [0],
        roots: [
          { name: 'injector (this bench)', pid: process.pid, tree: false },
          { name: 'Postfix A', pid: aPostfixPid, tree: true },
          { name: 'gate out (A serve)', pid: gatePids[0] as number, tree: true },
          { name: 'Dovecot A', pid: PIN ? dovecotMasterPid((world.node('A').dovecot as { configFile: string }).configFile) : 0, tree: true },
          { name: 'Postfix sender', pid: sender.masterPid() as number, tree: true },
        ],
      },
      {
        name: 'B',
        cpus: [1],
        roots: [
          { name: 'gate in (B serve)', pid: gatePids[1] as number, tree: true },
          { name: 'Postfix B', pid: bPostfixPid, tree: true },
          { name: 'Dovecot B', pid: dovecotBPid, tree: true },
          { name: 'Postfix receiver', pid: receiver.masterPid() as number, tree: true },
        ],
      },
    ];
    const rootOf = (name: string): Side['roots'][number] => sides.flatMap((sd) => sd.roots).find((r) => r.name === name) as Side['roots'][number];
    // The processes of each path whose CPU is counted, by side; the injector is this process.
    const pinnedProcs: Record<'gates' | 'direct', Array<{ side: 'A' | 'B'; name: string }>> = {
      gates: [
        { side: 'A', name: 'injector (this bench)' },
        { side: 'A', name: 'Postfix A' },
        { side: 'A', name: 'gate out (A serve)' },
        { side: 'B', name: 'gate in (B serve)' },
        { side: 'B', name: 'Postfix B' },
        { side: 'B', name: 'Dovecot B' },
      ],
      direct: [
        { side: 'A', name: 'injector (this bench)' },
        { side: 'A', name: 'Postfix sender' },
        { side: 'B', name: 'Postfix receiver' },
        ...(DIRECT_DELIVERY === 'lmtp' ? [{ side: 'B' as const, name: 'Dovecot B' }] : []),
      ],
    };
    const cpuOf = (name: string): number => {
      if (name === 'injector (this bench)') {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      }
      return cpuTreeSeconds(rootOf(name).pid);
    };
    const check = new AffinityCheck(sides);
    const pinned = { gates: [] as number[], direct: [] as number[], cpu: { gates: [] as number[][], direct: [] as number[][] } };
    const pinnedRuns = async (round: number, order: ReadonlyArray<'gates' | 'direct'>): Promise<void> => {
      for (const side of sides) pinSide(side);
      try {
        for (const which of order) {
          const names = pinnedProcs[which].map((p) => p.name);
          check.sample();
          const cpu0 = names.map(cpuOf);
          // Read back during the run too: children Postfix forks meanwhile must be on their side.
          const sampler = setInterval(() => check.sample(), 500);
          try {
            const rx = which === 'gates' ? bPostfix : direct_;
            const port = which === 'gates' ? world.node('A').ports.inject : txPort;
            pinned[which].push(await timed(port, rx, `pinned ${which} ${round}`));
          } finally {
            clearInterval(sampler);
          }
          pinned.cpu[which].push(names.map((n, i) => ((cpuOf(n) - (cpu0[i] ?? 0)) * 1000) / MESSAGES));
          check.sample();
        }
      } finally {
        for (const side of sides) pinSide(side, freeCpus);
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (PIN && round % 2 === 1) await pinnedRuns(round, ['gates', 'direct']);
      for (const path_ of round % 2 === 0 ? (['gates', 'direct'] as const) : (['direct', 'gates'] as const)) {
        if (path_ === 'direct') {
          const txLog = logFrom(sender);
          runs.direct.push(await measured('direct', () => timed(txPort, direct_, `direct ${round}`)));
          runs.directOpened.push(clientConnections(txLog(), 'postfix/smtp').opened);
          runs.delays.direct.push(delaysMs(txLog(), 'postfix/smtp'));
        } else {
          const cpu0 = gatePids.map(cpuTreeSeconds);
          const writes0 = gatePids.map(writeCallsTree);
          const aLog = logFrom(aPostfix);
          const bLog = logFrom(bPostfix.postfix);
          runs.gates.push(await measured('gates', () => timed(world.node('A').ports.inject, bPostfix, `gates ${round}`)));
          runs.lmtpOpened.push(clientConnections(aLog(), 'postfix/mss-gate-out/lmtp').opened);
          runs.delays.gates.push(delaysMs(aLog(), 'postfix/mss-gate-out/lmtp'));
          runs.gateSessions.push(serverConnections(bLog(), 'postfix/mss-gate-in/smtpd'));
          runs.cpuMs.push((gatePids.reduce((n, pid, i) => n + cpuTreeSeconds(pid) - (cpu0[i] ?? 0), 0) * 1000) / MESSAGES);
          runs.writes.push(gatePids.map((pid, i) => (writeCallsTree(pid) - (writes0[i] ?? 0)) / MESSAGES));
        }
      }
      if (PIN && round % 2 === 0) await pinnedRuns(round, ['direct', 'gates']);
      const pinnedNote = PIN ? `; pinned by side: gates ${fmt(pinned.gates.at(-1) ?? NaN, 2)} s, direct ${fmt(pinned.direct.at(-1) ?? NaN, 2)} s` : '';
      process.stdout.write(
        `round ${round + 1}: gates ${fmt(runs.gates.at(-1) ?? NaN, 2)} s, direct ${fmt(runs.direct.at(-1) ?? NaN, 2)} s; load ${loadAverage()}${pinnedNote}\n`,
      );
    }
    const gatesS = median(runs.gates);
    const directS = median(runs.direct);
    const gatesRate = MESSAGES / gatesS;
    const directRate = MESSAGES / directS;
    const ratios = runs.gates.map((g, i) => (runs.direct[i] ?? NaN) / g);
    const pinnedLines = (): string[] => {
      const head =
        '  two machines, one core each: pinned by side (A: injector, Postfix A, gate out; direct: injector, sender → CPU 0 | B: gate in, Postfix B, Dovecot B; direct: receiver, Dovecot B → CPU 1)';
      // No figure unless every process of each side stayed on its CPU (see the header).
      if (!check.held()) return [`${head}: ${check.summary()}`];
      const g = median(pinned.gates);
      const d = median(pinned.direct);
      const perRound = pinned.gates.map((x, i) => (pinned.direct[i] ?? NaN) / x);
      return [
        `${head}: gates ${fmt(MESSAGES / g, 1)} msg/s (median ${fmt(g, 2)} s, min ${fmt(Math.min(...pinned.gates), 2)} s), direct ${fmt(MESSAGES / d, 1)} msg/s (median ${fmt(d, 2)} s, min ${fmt(Math.min(...pinned.direct), 2)} s); ratio gates / direct: medians ${fmt(d / g, 2)}×, min/min ${fmt(Math.min(...pinned.direct) / Math.min(...pinned.gates), 2)}×, per round ${perRound.map((r) => fmt(r, 2)).join(' ')} (a model, not the goal's figure: that is the unpinned ratio above)`,
        `    ${check.summary()}`,
        ...(['gates', 'direct'] as const).map((which) => {
          const wallS = median(pinned[which]);
          const bySide = (['A', 'B'] as const).map((side) => {
            const idx = pinnedProcs[which].flatMap((p, i) => (p.side === side ? [i] : []));
            const per = idx.map((i) => `${pinnedProcs[which][i]?.name} ${fmt(median(pinned.cpu[which].map((r) => r[i] ?? NaN)), 2)}`);
            const total = median(pinned.cpu[which].map((r) => idx.reduce((n, i) => n + (r[i] ?? NaN), 0)));
            return `side ${side}: ${per.join(', ')} = ${fmt(total, 2)}, ${fmt((total * MESSAGES) / 1000 / wallS, 2)} cores busy of 1`;
          });
          return `    pinned CPU per message, ${which} path (medians, ms): ${bySide.join('; ')}`;
        }),
      ];
    };

    // Memory: one 10 MB message through both gate processes, RSS sampled every 10 ms.
    const pids = procs.map((p) => p.child.pid as number);
    const base = pids.map(rssKb);
    const peak = [...base];
    const sampler = setInterval(() => pids.forEach((pid, i) => (peak[i] = Math.max(peak[i] ?? 0, rssKb(pid)))), 10);
    const before = bPostfix.delivered().length;
    try {
      // 10 MB on the wire ("10 Mo"), within the 10 MiB limits with the added headers.
      await inject(world.node('A').ports.inject, 1, 9_990_000, 'ten megabytes');
      await waitDelivered(bPostfix, before + 1, 120_000);
    } finally {
      clearInterval(sampler);
    }
    const growth = peak.map((p, i) => (p - (base[i] ?? 0)) / 1024);

    const out = [
      `gates bench — ${MESSAGES} messages of ${SIZE / 1024} KB, ${PARALLEL} parallel connections, TLS on every inter-operator hop, serve.workers ${WORKERS}, ${ROUNDS} rounds; load average ${loadAverage()}`,
      `  through the gates  Postfix A → gate-out A → gate-in B → Postfix B : ${fmt(gatesRate, 1)} msg/s (median ${fmt(gatesS, 2)} s, min ${fmt(Math.min(...runs.gates), 2)} s)`,
      `  direct (anchor)    Postfix → Postfix over TLS → ${DIRECT_DELIVERY === 'lmtp' ? 'Dovecot LMTP' : 'virtual(8)  '}     : ${fmt(directRate, 1)} msg/s (median ${fmt(directS, 2)} s, min ${fmt(Math.min(...runs.direct), 2)} s)`,
      `  ratio gates / direct (throughput): medians ${fmt(gatesRate / directRate, 2)}×, min/min ${fmt(Math.min(...runs.direct) / Math.min(...runs.gates), 2)}×, per round ${ratios.map((r) => fmt(r, 2)).join(' ')} — goal ≥ ${GOAL}× ${gatesRate / directRate >= GOAL ? 'met' : 'NOT met'}`,
      ...(PIN ? pinnedLines() : []),
      `  CPU of the gate processes (both operators, every worker): min ${fmt(Math.min(...runs.cpuMs), 2)} median ${fmt(median(runs.cpuMs), 2)} ms per message`,
      ...(['gates', 'direct'] as const).map((which) => {
        const per = pathProcs[which].map(([name], i) => `${name} ${fmt(median(cpuPerMessage[which].map((r) => r[i] ?? NaN)), 2)}`);
        const total = median(cpuPerMessage[which].map((r) => r.reduce((a, b) => a + b, 0)));
        const wallS = median(runs[which]);
        return `  CPU per message, ${which} path (medians, ms): ${per.join(', ')}; total ${fmt(total, 2)} (+ injector ${fmt(median(injectorMs[which]), 2)}), i.e. ${fmt((total * MESSAGES) / 1000 / wallS, 2)} cores busy of ${os.cpus().length}`;
      }),
      `  write system calls per message (/proc/<pid>/io syscw: sockets, journal, traces, logs): operator A's serve (gate out) median ${fmt(median(runs.writes.map((w) => w[0] ?? NaN)), 1)}, B's (gate in) ${fmt(median(runs.writes.map((w) => w[1] ?? NaN)), 1)}`,
      `  connections per run of ${MESSAGES} messages (medians, from the Postfix logs): Postfix A → gate out LMTP opened ${fmt(median(runs.lmtpOpened), 0)}, gate out → gate in TLS sessions ${fmt(median(runs.gateSessions), 0)}; direct path's TLS connections opened ${fmt(median(runs.directOpened), 0)}`,
      ...(['gates', 'direct'] as const).map(
        (which) =>
          `  sending Postfix's delays per delivery, ${which} path (medians of the runs' medians, ms; a before the queue manager, b waiting for a slot, c connection setup or reuse, d transmission until the final reply): ${[0, 1, 2, 3].map((i) => fmt(median(runs.delays[which].map((r) => r[i] ?? NaN)), 0)).join(' / ')}`,
      ),
      `  10 MB message: RSS growth gate process A (out) ${fmt(growth[0] ?? NaN, 1)} MB, B (in) ${fmt(growth[1] ?? NaN, 1)} MB (target < 30 MB)`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const p of procs) await p.stop();
    for (const pf of direct) await pf.stop();
    await world.stop();
  }
}

await main();
