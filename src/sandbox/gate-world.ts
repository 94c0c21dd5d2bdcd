// The simulated operators of the test PKI side by side, as the sandbox and the gate tests
// run them: a loopback DNS responder publishing each operator's domains with its
// connector (the certificate's CN) as MX, and one operator node each (operator-node.ts),
// operator N's inbound gate on 127.0.0.(N+2) at one shared port, as port 25 is everywhere.
import path from 'node:path';
import type { ConfigInput } from '../config/schema.js';
import type { Logger } from '../log.js';
import { freePort } from '../util/free-port.js';
import { DnsResponder, type DnsZone } from './dns-responder.js';
import { sandboxRegistryYaml } from './gate-registry.js';
import { startOperatorNode, type OperatorNode, type PkiOperator } from './operator-node.js';
import type { PkiManifest } from './pki.js';

export interface GateWorldOptions {
  dir: string;
  pki: PkiManifest;
  /** The signed liste blanche every operator holds. */
  list: Buffer;
  log: Logger;
  postfix: boolean;
  /** Operators to run (default: all of the PKI). */
  operators?: readonly string[];
  startGates?: boolean;
  configure?: (op: PkiOperator, c: ConfigInput) => void;
  postfixMain?: Record<string, string>;
}

export interface GateWorld {
  dns: DnsResponder;
  /** The port every inbound gate listens on. */
  port: number;
  nodes: Map<string, OperatorNode>;
  node(id: string): OperatorNode;
  stop(): Promise<void>;
}

export const PEOPLE: Record<string, { first: string; last: string; idNat: string }> = {
  A: { first: 'alice', last: 'martin', idNat: '810000000201' },
  B: { first: 'bruno', last: 'petit', idNat: '810000000202' },
};

export function mxAddress(index: number): string {
  return `127.0.0.${index + 2}`;
}

export function zoneFor(operators: readonly PkiOperator[]): DnsZone {
  const zone: Required<DnsZone> = { mx: {}, a: {} };
  operators.forEach((op, i) => {
    zone.a[op.fqdn] = [mxAddress(i)];
    for (const d of op.domains) (zone.mx[d] ??= []).push({ priority: 10, exchange: op.fqdn });
  });
  return zone;
}

export async function startGateWorld(o: GateWorldOptions): Promise<GateWorld> {
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
      const node = await startOperatorNode({
        dir: path.join(o.dir, op.id.toLowerCase()),
        pki: o.pki,
        op,
        list: o.list,
        registryYaml: sandboxRegistryYaml(op.domains, { person: PEOPLE[op.id] ?? { first: 'paul', last: 'durand', idNat: `81000000030${index}` } }),
        mx: { host: mxAddress(index), port },
        remotePort: port,
        dns: dns.address,
        log: o.log,
        postfix: o.postfix,
        ...(o.startGates !== undefined ? { startGates: o.startGates } : {}),
        configure: (c) => o.configure?.(op, c),
        ...(o.postfixMain ? { postfixMain: o.postfixMain } : {}),
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
