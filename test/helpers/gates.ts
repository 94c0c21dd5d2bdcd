// Operators of the test PKI, each with its mail servers (real Postfix and Dovecot with the
// shipped pieces, or the embedded sink) and its daemon, their shared DNS responder, and the
// sandbox liste blanche — the world the gate tests exchange mail in. Built by the same code
// as `mss-sidecar sandbox`.
import fs from 'node:fs';
import { createLogger, type Logger } from '../../src/log.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { PkiOperator, PscTrust } from '../../sandbox/operator-node.js';
import { operatorMtasMissing } from '../../sandbox/operator-mtas.js';
import { startOperatorWorld, type OperatorWorld, type OperatorWorldOptions } from '../../sandbox/operator-world.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { testPki } from './pki.js';
import { tmpDir } from './tmp.js';
import { signedList } from './whitelist.js';

export const silent = createLogger({ level: (process.env.MSS_TEST_LOG as never) ?? 'silent', pretty: false });

/** Short timeouts: a test waits seconds, not the minutes RFC 5321 gives a real peer. */
export function fastTimeouts(c: ConfigInput): void {
  c.gates = {
    ...c.gates,
    in: { ...c.gates?.in, postfix: { ...c.gates?.in?.postfix, connectTimeoutMs: 2000, commandTimeoutMs: 10_000, dataDoneTimeoutMs: 20_000 } },
    out: {
      ...c.gates?.out,
      timeouts: { connectMs: 2000, commandMs: 10_000, dataDoneMs: 20_000, setupMs: 10_000 },
      dns: { ...c.gates?.out?.dns, timeoutMs: 1000 },
    },
  };
  c.registry = { ...c.registry, pollMs: 200 };
  c.crl = { ...c.crl, pollMs: 200 };
}

export interface TestWorld extends OperatorWorld {
  pki: PkiManifest;
  dir: string;
}

export interface TestWorldOptions {
  /** Real Postfix and Dovecot (default: when this machine has them), or the embedded sink. */
  mta?: 'real' | 'none';
  operators?: string[];
  /** Start the daemons in the test process (default true); false: the test spawns `serve`. */
  daemons?: boolean;
  psc?: PscTrust;
  configure?: (op: PkiOperator, c: ConfigInput) => void;
  /** The daemons' logger (default: silent, or MSS_TEST_LOG's level). */
  log?: Logger;
  /** The mail servers as docs/install.md sets them up (the bypass suite). */
  mtaInstall?: OperatorWorldOptions['mtaInstall'];
  postfixMain?: OperatorWorldOptions['postfixMain'];
}

export async function gateWorld(opts: TestWorldOptions = {}): Promise<TestWorld> {
  const pki = await testPki();
  const dir = tmpDir('mss-gates-');
  const world = await startOperatorWorld({
    dir,
    pki,
    list: Buffer.from(signedList(pki)),
    log: opts.log ?? silent,
    mta: opts.mta ?? (operatorMtasMissing().length === 0 ? 'real' : 'none'),
    fastFailures: true,
    ...(opts.daemons !== undefined ? { daemons: opts.daemons } : {}),
    ...(opts.operators ? { operators: opts.operators } : {}),
    ...(opts.psc ? { psc: opts.psc } : {}),
    ...(opts.mtaInstall ? { mtaInstall: opts.mtaInstall } : {}),
    ...(opts.postfixMain ? { postfixMain: opts.postfixMain } : {}),
    configure: (op, c) => {
      fastTimeouts(c);
      opts.configure?.(op, c);
    },
  });
  return Object.assign(world, { pki, dir });
}

/** The files delivered to a node whose content matches. */
export function deliveredMatching(world: OperatorWorld, id: string, pattern: RegExp): string[] {
  return world
    .node(id)
    .delivered()
    .filter((f) => pattern.test(fs.readFileSync(f, 'utf8')));
}
