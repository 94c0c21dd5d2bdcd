// Operator A as a cluster of two nodes behind one MX, and operator B sending to it — the
// world of test/integration/cluster-e2e.test.ts and bench/cluster.ts:
//  - one Redis Sentinel set (1 master, 1 replica, 3 sentinels) shared by A's nodes;
//  - A1: A's node as the sandbox builds it (its Postfix, Dovecot, configuration), with
//    state.redis through the sentinels and cluster.node A1;
//  - A2: A1's configuration with its own name, state directory (the verified liste blanche
//    copied, as an administrator installs it), registry copy and gate address, receiving
//    only (A's Postfix has one outbound gate and one milter: A1's); A's Postfix and Dovecot
//    are the mail store both front ends deliver to;
//  - the sandbox DNS gives A's domains two MX records of the same priority (A1's address,
//    then mx2.<A's connector name> at A2's), so B's outbound gate spreads over them.
// Nothing starts `serve`: the caller does (serveNode), with a kill hook when it wants one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/schema.js';
import { CLI, cliEnv } from './cli.js';
import { gateWorld, type TestWorld } from './gates.js';
import { spawnTracked, waitForOutput, type Spawned } from './processes.js';
import { startSentinelSet, type SentinelSet } from './sentinel.js';
import { SmtpClient, message } from './smtp-client.js';
import { traceLines } from './traces.js';

export const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
export const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';
const A2_ADDRESS = '127.0.0.40';
const HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'kill-on-write.js')).href;

/** The parts of a node's config.yaml A2's copy changes. */
interface NodeYaml {
  state: { dir: string };
  registry: { file: string };
  cluster: { node: string };
  gates: { in: { listen: { host: string } }; out: unknown };
  milter?: { enabled: boolean };
}

export interface ClusterWorld {
  world: TestWorld;
  sentinels: SentinelSet;
  /** Configuration files of A1, A2 and B. */
  config: { A1: string; A2: string; B: string };
  stateDir: { A1: string; A2: string };
  /** Publish A2's MX record (true) or only A1's (false, a cluster of one). */
  secondMx(on: boolean): void;
  stop(): Promise<void>;
}

export async function startClusterWorld(
  opts: {
    configure?: (c: ConfigInput) => void;
    /** B's configuration (the peer that sends to A's two MX records). */
    configureB?: (c: ConfigInput) => void;
    postfixMain?: Record<string, string>;
  } = {},
): Promise<ClusterWorld> {
  const sentinels = await startSentinelSet();
  let world: TestWorld | undefined;
  try {
    world = await gateWorld({
      mta: 'real',
      operators: ['A', 'B'],
      daemons: false,
      ...(opts.postfixMain ? { postfixMain: opts.postfixMain } : {}),
      configure: (op, c) => {
        if (op.id === 'B') opts.configureB?.(c);
        if (op.id !== 'A') return;
        c.state = {
          ...c.state,
          redis: {
            sentinels: sentinels.sentinelAddresses.map((s) => `${s.host}:${s.port}`),
            masterName: sentinels.masterName,
            keyPrefix: 'cluster:',
            waitTimeoutMs: 500,
          },
        };
        // A node that stops beating is gone after 0.6 s: its pending digests are taken over at once.
        c.cluster = { node: 'A1', heartbeatMs: 200 };
        opts.configure?.(c);
      },
    });
    const w = world;
    const a = w.node('A');
    const dir = path.join(w.dir, 'a2');
    fs.mkdirSync(dir, { recursive: true });
    const c = parse(fs.readFileSync(a.configFile, 'utf8')) as NodeYaml;
    const a2State = path.join(dir, 'state');
    fs.cpSync(a.config.state.dir, a2State, { recursive: true });
    const registry = path.join(dir, 'registry.yaml');
    fs.copyFileSync(a.config.registry.file, registry);
    c.state.dir = a2State;
    c.registry = { ...c.registry, file: registry };
    c.cluster.node = 'A2';
    c.gates.in.listen.host = A2_ADDRESS;
    c.gates.out = { enabled: false };
    if (c.milter) c.milter.enabled = false;
    const a2Config = path.join(dir, 'config.yaml');
    fs.writeFileSync(a2Config, stringify(c));
    const fqdn = w.pki.operators.find((o) => o.id === 'A')?.fqdn as string;
    const domains = a.config.operator.domains;
    const first = Object.fromEntries(domains.map((d) => [d, [...(w.dns.zone.mx?.[d] ?? [])]]));
    const secondMx = (on: boolean): void => {
      w.dns.zone.a = { ...w.dns.zone.a, [`mx2.${fqdn}`]: [A2_ADDRESS] };
      for (const d of domains) w.dns.zone.mx = { ...w.dns.zone.mx, [d]: [...(first[d] ?? []), ...(on ? [{ priority: 10, exchange: `mx2.${fqdn}` }] : [])] };
    };
    secondMx(true);
    return {
      world: w,
      sentinels,
      config: { A1: a.configFile, A2: a2Config, B: w.node('B').configFile },
      stateDir: { A1: a.config.state.dir, A2: a2State },
      secondMx,
      stop: async () => {
        await w.stop();
        await sentinels.stop();
      },
    };
  } catch (err) {
    await world?.stop();
    await sentinels.stop();
    throw err;
  }
}

/**
 * A node's `serve`, ready. `killAtReply`: SIGKILLed as it writes its n-th "250 … queued as"
 * to a peer — after Postfix queued the message and the gate committed its digest, in the
 * RFC 1047 window (test/helpers/kill-on-write.ts).
 */
export async function serveNode(config: string, opts: { killAtReply?: number; env?: Record<string, string> } = {}): Promise<Spawned> {
  const hook = opts.killAtReply ? ['--import', HOOK] : [];
  const env: Record<string, string> = {
    ...opts.env,
    ...(opts.killAtReply ? { MSS_TEST_KILL_ON_WRITE: '250 2\\.0\\.0 Ok: queued as', MSS_TEST_KILL_ON_WRITE_COUNT: String(opts.killAtReply) } : {}),
  };
  const p = spawnTracked(process.execPath, [...hook, CLI, '--config', config, 'serve'], { env: cliEnv(env) });
  await waitForOutput(p, (out) => /"msg":"ready"/.test(out), 120_000);
  return p;
}

/** Messages [from, to) from Bruno to Alice, injected into B's Postfix over `sessions` connections; subject "<tag> <i>". */
export async function injectToA(cw: ClusterWorld, tag: string, from: number, to: number, opts: { sessions?: number; bodyBytes?: number } = {}): Promise<void> {
  const port = cw.world.node('B').ports.inject;
  const sessions = opts.sessions ?? 4;
  const fill = 'x'.repeat(opts.bodyBytes ?? 2000);
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      const c = await SmtpClient.connect(port);
      await c.command('EHLO lps.clinique-sandbox-b.test');
      for (let i = from + s; i < to; i += sessions) {
        const mail = await c.command(`MAIL FROM:<${BRUNO}>`);
        const rcpt = await c.command(`RCPT TO:<${ALICE}>`);
        const [, final] = await c.data(message({ from: BRUNO, to: [ALICE], subject: `${tag} ${i}`, body: `message ${i}\r\n${fill}` }));
        if (mail.code !== 250 || rcpt.code !== 250 || final.code !== 250) throw new Error(`B's Postfix refused message ${i}: ${final.code} ${final.text}`);
      }
      await c.quit();
    }),
  );
}

/** How many copies of each message "<tag> <i>" A's mailbox holds (i → count). */
export function copiesInA(cw: ClusterWorld, tag: string): Map<number, number> {
  const n = new Map<number, number>();
  const re = new RegExp(`^Subject: ${tag} (\\d+)$`, 'm');
  for (const f of cw.world.node('A').delivered()) {
    let head: string;
    try {
      head = fs.readFileSync(f, 'latin1').slice(0, 4000);
    } catch {
      continue;
    }
    const m = re.exec(head);
    if (m) n.set(Number(m[1]), (n.get(Number(m[1])) ?? 0) + 1);
  }
  return n;
}

export const totalCopies = (n: Map<number, number>): number => [...n.values()].reduce((a, b) => a + b, 0);

/** Occurrences of `re` (global) in a node's functional traces (EX_GDT_5010): what its gates decided. */
export function inTraces(stateDir: string, re: RegExp): number {
  let n = 0;
  const dir = path.join(stateDir, 'traces');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : []) {
    const file = path.join(dir, f);
    if (fs.statSync(file).isFile()) n += (fs.readFileSync(file, 'utf8').match(re) ?? []).length;
  }
  return n;
}

/** A copy of message "<tag> <i>" a node's inbound gate handed to Postfix, as its trace says. */
export interface DeliveredCopy {
  i: number;
  at: number;
  digest?: string;
  /** Why the duplicate check did not prove it the first copy (src/gate/inbound/server.ts). */
  duplicateCheck?: 'unchecked' | 'took-over';
}

/** The copies of the tag's messages a node's gate handed to Postfix ("queued as", not "already received"). */
export function deliveredIn(stateDir: string, tag: string): DeliveredCopy[] {
  const re = new RegExp(`^${tag} (\\d+)$`);
  return traceLines(path.join(stateDir, 'traces')).flatMap((r) => {
    const m = r.request?.step === 'DATA' && r.response?.ok && !r.request.duplicateOf ? re.exec(String(r.message?.subject ?? '')) : null;
    if (!m) return [];
    const { digest, duplicateCheck } = r.request as { digest?: string; duplicateCheck?: DeliveredCopy['duplicateCheck'] };
    return [{ i: Number(m[1]), at: Date.parse(String(r.at)), ...(digest ? { digest } : {}), ...(duplicateCheck ? { duplicateCheck } : {}) }];
  });
}

/** Journal events a serve replayed from its spool, from its log ("spooled writes replayed"). */
export const replayedIn = (out: string): number => [...out.matchAll(/"replayed":(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
