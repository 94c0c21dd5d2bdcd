// The simulated operators of the test PKI side by side, as the sandbox and the gate and
// end-to-end tests run them: a loopback DNS responder publishing each operator's domains
// with its connector (the certificate's CN) as MX, and one operator node each
// (operator-node.ts: Postfix, Dovecot, `serve`), operator N's inbound gate on 127.0.0.(N+2)
// at one shared port, as port 25 is everywhere.
import path from 'node:path';
import type { ConfigInput } from '../src/config/schema.js';
import type { Logger } from '../src/log.js';
import { freePort } from '../src/util/free-port.js';
import { DnsResponder, type DnsZone } from './dns-responder.js';
import { sandboxMailboxes, sandboxRegistryYaml, type OperatorMailboxes, type SandboxPerson } from './gate-registry.js';
import { sandboxEntryPoints, startOperatorNode, type OperatorNode, type OperatorNodeOptions, type PkiOperator, type PscTrust } from './operator-node.js';
import type { PkiManifest } from './pki.js';

/** Where an operator's files go when the caller decides (the sandbox: D/config.yaml, D/state/a…). */
export interface OperatorFiles {
  configFile?: string;
  stateDir?: string;
  /** An existing registry, and the mailboxes of it the checks use; default: a generated one. */
  registry?: { file: string; mailboxes: OperatorMailboxes };
}

export interface OperatorWorldOptions {
  dir: string;
  pki: PkiManifest;
  /** The signed liste blanche every operator holds. */
  list: Buffer;
  log: Logger;
  mta: 'real' | 'none';
  /** Operators to run (default: all of the PKI). */
  operators?: readonly string[];
  /** Start each operator's daemon in this process (default true). */
  daemons?: boolean;
  psc?: PscTrust;
  files?: (op: PkiOperator) => OperatorFiles;
  configure?: (op: PkiOperator, c: ConfigInput) => void;
  /** Extra main.cf parameters, for every operator or for one (a function of the operator). */
  postfixMain?: Record<string, string> | ((op: PkiOperator) => Record<string, string> | undefined);
  fastFailures?: boolean;
  mtaInstall?: OperatorNodeOptions['mtaInstall'];
}

export interface OperatorWorld {
  dns: DnsResponder;
  /** The port every inbound gate listens on. */
  port: number;
  nodes: Map<string, OperatorNode>;
  node(id: string): OperatorNode;
  stop(): Promise<void>;
}

export const PEOPLE: Record<string, SandboxPerson> = {
  A: { first: 'alice', last: 'martin', idNat: '810000000201' },
  B: { first: 'bruno', last: 'petit', idNat: '810000000202' },
};

export function mxAddress(index: number): string {
  return `127.0.0.${index + 2}`;
}

export function zoneFor(operators: readonly PkiOperator[]): DnsZone {
  const zone: Required<DnsZone> = { mx: {}, a: {}, srv: {} };
  operators.forEach((op, i) => {
    zone.a[op.fqdn] = [mxAddress(i)];
    const ep = sandboxEntryPoints(op);
    for (const d of op.domains) {
      (zone.mx[d] ??= []).push({ priority: 10, exchange: op.fqdn });
      // TM5.1P (§6.8.3): priority 10 the PSC entry point, 20 the AUTH-CLI one, one weight
      // (a domain several operators share lists each one's entry points).
      (zone.srv[`_imap._tcp.${d}`] ??= []).push(
        { priority: 10, weight: 100, port: 143, target: ep.imap.psc },
        { priority: 20, weight: 100, port: 143, target: ep.imap.authCli },
      );
      (zone.srv[`_submission._tcp.${d}`] ??= []).push(
        { priority: 10, weight: 100, port: 587, target: ep.submission.psc },
        { priority: 20, weight: 100, port: 587, target: ep.submission.authCli },
      );
    }
  });
  return zone;
}

export async function startOperatorWorld(o: OperatorWorldOptions): Promise<OperatorWorld> {
  const operators = o.pki.operators.filter((op) => !o.operators || o.operators.includes(op.id));
  const dns = new DnsResponder(zoneFor(operators));
  await dns.start();
  const port = await freePort();
  const nodes = new Map<string, OperatorNode>();
  const stop = async (): Promise<void> => {
    for (const n of [...nodes.values()].reverse()) await n.stop();
    nodes.clear();
    await dns.stop();
  };
  try {
    for (const op of operators) {
      const index = o.pki.operators.indexOf(op);
      const files = o.files?.(op) ?? {};
      const person = PEOPLE[op.id] ?? { first: 'paul', last: 'durand', idNat: `81000000030${index}` };
      const node = await startOperatorNode({
        op,
        pki: o.pki,
        dir: path.join(o.dir, op.id.toLowerCase()),
        ...(files.configFile ? { configFile: files.configFile } : {}),
        ...(files.stateDir ? { stateDir: files.stateDir } : {}),
        registry: files.registry ? { file: files.registry.file } : { yaml: sandboxRegistryYaml(op.domains, { person, structureId: op.structureId }) },
        mailboxes: files.registry?.mailboxes ?? sandboxMailboxes(op.domains, person),
        list: o.list,
        mx: { host: mxAddress(index), port },
        remotePort: port,
        dns: dns.address,
        mta: o.mta,
        ...(o.psc ? { psc: o.psc } : {}),
        ...(o.daemons !== undefined ? { daemon: o.daemons } : {}),
        configure: (c) => o.configure?.(op, c),
        ...(o.postfixMain ? { postfixMain: typeof o.postfixMain === 'function' ? (o.postfixMain(op) ?? {}) : o.postfixMain } : {}),
        ...(o.fastFailures ? { fastFailures: true } : {}),
        ...(o.mtaInstall ? { mtaInstall: o.mtaInstall } : {}),
        log: o.log,
      });
      nodes.set(op.id, node);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dns,
    port,
    nodes,
    node(id) {
      const n = nodes.get(id);
      if (!n) throw new Error(`no operator ${id} in this world`);
      return n;
    },
    stop,
  };
}
