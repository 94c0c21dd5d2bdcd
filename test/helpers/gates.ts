// Two operators of the test PKI with their gates in front of real Postfix instances (or
// sinks), their shared DNS responder, and the sandbox liste blanche — the world the gate
// tests exchange mail in. Built by the same code as `mss-sidecar sandbox`.
import fs from 'node:fs';
import { createLogger } from '../../src/log.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { PostfixInstance } from '../../src/mta/postfix-instance.js';
import { startGateWorld, type GateWorld } from '../../src/sandbox/gate-world.js';
import type { PkiOperator } from '../../src/sandbox/operator-node.js';
import type { PkiManifest } from '../../src/sandbox/pki.js';
import { testPki } from './pki.js';
import { tmpDir } from './tmp.js';
import { signedList } from './whitelist.js';

export const silent = createLogger({ level: (process.env.MSS_TEST_LOG as never) ?? 'silent', pretty: false });

/** Short timeouts: a test waits seconds, not the minutes RFC 5321 gives a real peer. */
export function fastTimeouts(c: ConfigInput): void {
  c.gates = {
    ...c.gates,
    in: { ...c.gates?.in, postfix: { ...c.gates?.in?.postfix, connectTimeoutMs: 2000, commandTimeoutMs: 10_000, dataDoneTimeoutMs: 20_000 } },
    out: { ...c.gates?.out, timeouts: { connectMs: 2000, commandMs: 10_000, dataDoneMs: 20_000, setupMs: 10_000 }, dns: { ...c.gates?.out?.dns, timeoutMs: 1000 } },
  };
  c.registry = { ...c.registry, pollMs: 200 };
  c.crl = { ...c.crl, pollMs: 200 };
}

export interface TestWorld extends GateWorld {
  pki: PkiManifest;
  dir: string;
}

export async function gateWorld(opts: { postfix?: boolean; operators?: string[]; startGates?: boolean; configure?: (op: PkiOperator, c: ConfigInput) => void } = {}): Promise<TestWorld> {
  const pki = await testPki();
  const dir = tmpDir('mss-gates-');
  const world = await startGateWorld({
    dir,
    pki,
    list: Buffer.from(signedList(pki)),
    log: silent,
    postfix: opts.postfix ?? PostfixInstance.available(),
    ...(opts.startGates !== undefined ? { startGates: opts.startGates } : {}),
    ...(opts.operators ? { operators: opts.operators } : {}),
    configure: (op, c) => {
      fastTimeouts(c);
      opts.configure?.(op, c);
    },
  });
  return Object.assign(world, { pki, dir });
}

/** The files delivered to a node whose content matches. */
export function deliveredMatching(world: GateWorld, id: string, pattern: RegExp): string[] {
  return world.node(id).delivered().filter((f) => pattern.test(fs.readFileSync(f, 'utf8')));
}
