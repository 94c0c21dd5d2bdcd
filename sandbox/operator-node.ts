// One simulated operator as a hospital deploys mss-sidecar: one Postfix and one Dovecot
// with the shipped pieces (operator-mtas.ts), and one `mss-sidecar serve` with one
// configuration file — the gates, the submission milter and the API LPS on one set of shared
// resources — either started in this process (the sandbox, most tests) or left to a `serve`
// process the caller spawns with `configFile` (the end-to-end test, the benchmark).
// Everything listens on loopback: the inbound gate on the operator's own loopback address
// (127.0.0.N) at the port every operator uses for "port 25", the rest on free ports.
// Without Postfix, Dovecot or root, an embedded sink stands in for Postfix behind the
// inbound gate and only the gates (and the PSC checker) run.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import type { Config, ConfigInput } from '../src/config/schema.js';
import { startDaemon, type RunningDaemon } from '../src/daemon/run.js';
import type { RunningGates } from '../src/gate/service.js';
import type { Logger } from '../src/log.js';
import type { DovecotInstance } from './mta/dovecot-instance.js';
import type { PostfixInstance } from './mta/postfix-instance.js';
import { freePorts } from '../src/util/free-port.js';
import { whitelistPaths } from '../src/whitelist/store.js';
import type { OperatorMailboxes } from './gate-registry.js';
import { mailFiles } from './lps-exchange.js';
import { MailSink } from './mail-sink.js';
import { gateInSocketPath, startOperatorMtas, type OperatorMtaOptions, type OperatorMtas } from './operator-mtas.js';
import { SANDBOX_PSC_CLIENT_ID } from './psc/sandbox-psc.js';
import type { PkiManifest } from './pki.js';

export type PkiOperator = PkiManifest['operators'][number];

/** The Pro Santé Connect the operator's API LPS trusts (the sandbox's). */
export interface PscTrust {
  issuer: string;
  /** CA of its HTTPS certificate. */
  ca: string;
  /** `azp` of its tokens, when the checker must check it. */
  clientId?: string;
}

export interface OperatorNodeOptions {
  op: PkiOperator;
  pki: PkiManifest;
  /** This operator's mail servers (or sink) go under it, and its files by default. */
  dir: string;
  configFile?: string;
  stateDir?: string;
  /** The registry file; `yaml` is written to it when given (otherwise the file must exist). */
  registry: { file?: string; yaml?: string };
  mailboxes: OperatorMailboxes;
  /** The signed liste blanche, stored as this operator's last valid copy (what `whitelist sync` stores). */
  list: Buffer;
  /** This operator's MX address: where its inbound gate listens. */
  mx: { host: string; port: number };
  /** Port of the other operators' inbound gates (the sandbox's "port 25"). */
  remotePort: number;
  /** Resolver for MX lookups ("127.0.0.1:PORT"). */
  dns: string;
  /** With it, the API LPS runs: the checker, and with real mail servers the fronts. */
  psc?: PscTrust;
  /** Real Postfix and Dovecot, or the embedded sink (see operatorMtasMissing()). */
  mta: 'real' | 'none';
  /** Start the daemon in this process (default true); false: write the configuration only. */
  daemon?: boolean;
  /** Extra configuration merged over the generated one (shorter timeouts in tests, sandbox endpoints). */
  configure?: (c: ConfigInput) => void;
  /** Extra main.cf parameters for this operator's Postfix (benchmarks). */
  postfixMain?: Record<string, string>;
  /** Dovecot without its 2 s delay after a refused login (tests). */
  fastFailures?: boolean;
  /** The mail servers as docs/install.md sets them up (the bypass suite): see OperatorMtaOptions. */
  mtaInstall?: Pick<OperatorMtaOptions, 'debianDovecot' | 'postfixApply'>;
  log: Logger;
}

/** Loopback ports of one operator, besides its inbound gate. */
export interface OperatorPorts {
  postfixGate: number;
  gateOut: number;
  /** Postfix's listener for mail written on the operator's host (real mail servers only). */
  inject: number;
  submissionBackend: number;
  milter: number;
  checker: number;
  lpsImap: number;
  lmtp: number;
  /** The API LPS entry points: the fronts an LPS connects to (587 and 143 in production). */
  imap: number;
  submission: number;
  authCliImap: number;
  authCliSubmission: number;
}

export interface OperatorNode {
  op: PkiOperator;
  mta: 'real' | 'none';
  config: Config;
  configFile: string;
  mailboxes: OperatorMailboxes;
  ports: OperatorPorts;
  postfix?: PostfixInstance;
  dovecot?: DovecotInstance;
  sink?: MailSink;
  /** Where delivered messages land (Dovecot's mail directory, or the sink's). */
  mailDir: string;
  /** The daemon started in this process, if any. */
  daemon?: RunningDaemon;
  gates(): RunningGates | undefined;
  /** Messages that reached this operator's mail store, every mailbox. */
  delivered(): string[];
  startDaemon(): Promise<RunningDaemon>;
  stop(): Promise<void>;
}

/** The outbound gate's LMTP socket of the node under `dir` (gates.out.listen.path; Postfix's default_transport). */
export function gateOutSocketPath(dir: string): string {
  return path.join(dir, 'run', 'gate-out.sock');
}

const PORT_NAMES = [
  'postfixGate',
  'gateOut',
  'inject',
  'submissionBackend',
  'milter',
  'checker',
  'lpsImap',
  'lmtp',
  'imap',
  'submission',
  'authCliImap',
  'authCliSubmission',
] as const;

/** Host names of an operator's four LPS entry points (TM5.1P), published in the sandbox DNS. */
export function sandboxEntryPoints(op: Pick<PkiOperator, 'fqdn'>): { imap: { psc: string; authCli: string }; submission: { psc: string; authCli: string } } {
  return { imap: { psc: `imap.${op.fqdn}`, authCli: `imap-app.${op.fqdn}` }, submission: { psc: `smtp.${op.fqdn}`, authCli: `smtp-app.${op.fqdn}` } };
}

/** The operator's configuration, as an administrator would write it (docs/install.md), on the node's ports. */
function configInput(o: OperatorNodeOptions, ports: OperatorPorts, stateDir: string, registryFile: string): ConfigInput {
  const real = o.mta === 'real';
  const local = (port: number) => ({ host: '127.0.0.1', port });
  // The entry points present their whole chain (leaf and intermediate): an LPS that trusts only the root can verify them.
  const lpsTls = { certificate: o.pki.https.chain, key: o.pki.https.key };
  const input: ConfigInput = {
    operator: { name: o.op.organisation, domains: o.op.domains, structureId: o.op.structureId, certificate: o.op.cert, key: o.op.key },
    trust: { dir: o.pki.trustDir, crlDir: o.pki.crlDir },
    state: { dir: stateDir },
    registry: { file: registryFile },
    // With Postfix, the two doors between it and the gates are unix sockets, as shipped; the
    // embedded sink stands in for Postfix on a port, and the outbound gate then listens on one.
    gates: {
      in: { enabled: true, listen: o.mx, postfix: real ? { path: gateInSocketPath(o.dir) } : { port: ports.postfixGate } },
      out: {
        enabled: true,
        listen: real ? { path: gateOutSocketPath(o.dir) } : local(ports.gateOut),
        // `status` and `postfix check-routes` read this operator's own Postfix.
        ...(real ? { postfixConfigDir: path.join(o.dir, 'postfix', 'etc') } : {}),
        remotePort: o.remotePort,
        dns: { servers: [o.dns] },
      },
    },
    ...(real ? { milter: { enabled: true, listen: `inet:127.0.0.1:${ports.milter}` } } : {}),
  };
  if (o.psc) {
    input.auth = {
      // EX_LPS_0800: tokens must be issued for the operator's PSC client (the sandbox PSC's).
      psc: {
        issuer: o.psc.issuer,
        caFile: o.psc.ca,
        audience: o.psc.clientId ?? SANDBOX_PSC_CLIENT_ID,
        ...(o.psc.clientId ? { authorizedParty: o.psc.clientId } : {}),
      },
      checker: { listen: local(ports.checker) },
      front: real
        ? {
            ...lpsTls,
            imap: { listen: local(ports.imap), backend: local(ports.lpsImap) },
            submission: { listen: local(ports.submission), backend: local(ports.submissionBackend) },
          }
        : { enabled: false },
      ...(real
        ? {
            authCli: {
              enabled: true,
              ...lpsTls,
              imap: { listen: local(ports.authCliImap), backend: local(ports.lpsImap) },
              submission: { listen: local(ports.authCliSubmission), backend: local(ports.submissionBackend) },
            },
          }
        : {}),
      // The sandbox DNS publishes them: `autoconfig check` passes with this configuration.
      entryPoints: { ...sandboxEntryPoints(o.op), resolvers: [o.dns] },
    };
  }
  o.configure?.(input);
  return input;
}

export async function startOperatorNode(o: OperatorNodeOptions): Promise<OperatorNode> {
  const ports = Object.fromEntries((await freePorts(PORT_NAMES.length)).map((p, i) => [PORT_NAMES[i], p])) as unknown as OperatorPorts;
  fs.mkdirSync(o.dir, { recursive: true });
  const stateDir = o.stateDir ?? path.join(o.dir, 'state');
  const wl = whitelistPaths(stateDir);
  fs.mkdirSync(wl.dir, { recursive: true });
  fs.writeFileSync(wl.file, o.list);
  const registryFile = o.registry.file ?? path.join(o.dir, 'registry.yaml');
  if (o.registry.yaml !== undefined) fs.writeFileSync(registryFile, o.registry.yaml);
  const configFile = o.configFile ?? path.join(o.dir, 'config.yaml');
  fs.writeFileSync(
    configFile,
    `# Operator ${o.op.id} (${o.op.organisation}) of the mss-sidecar sandbox: \`mss-sidecar --config ${configFile} serve\` runs it.\n${stringify(configInput(o, ports, stateDir, registryFile))}`,
  );
  const config = loadConfig(configFile);

  let mtas: OperatorMtas | undefined;
  let sink: MailSink | undefined;
  if (o.mta === 'real') {
    mtas = await startOperatorMtas({
      dir: o.dir,
      myhostname: o.op.fqdn,
      domains: o.op.domains,
      ports: { submission: ports.submissionBackend, milter: ports.milter, lpsImap: ports.lpsImap, lmtp: ports.lmtp, inject: ports.inject },
      gateOutSocket: gateOutSocketPath(o.dir),
      checkerUrl: `http://127.0.0.1:${ports.checker}/v1/xoauth2`,
      // Dovecot's ssl_cert and Postfix's chain files: the whole chain, as the fronts present.
      tls: { certFile: o.pki.https.chain, keyFile: o.pki.https.key },
      ...(o.fastFailures ? { fastFailures: true } : {}),
      ...(o.postfixMain ? { postfixMain: o.postfixMain } : {}),
      ...o.mtaInstall,
    });
  } else {
    sink = new MailSink(path.join(o.dir, 'sink'));
    await sink.start(ports.postfixGate);
  }
  const mailDir = mtas ? mtas.dovecot.mailDir : (sink as MailSink).dir;
  const node: OperatorNode = {
    op: o.op,
    mta: o.mta,
    config,
    configFile,
    mailboxes: o.mailboxes,
    ports,
    ...(mtas ? { postfix: mtas.postfix, dovecot: mtas.dovecot } : {}),
    ...(sink ? { sink } : {}),
    mailDir,
    gates: () => node.daemon?.service<RunningGates>('gates'),
    delivered: () => mailFiles(mailDir),
    async startDaemon() {
      node.daemon = await startDaemon(config, o.log.child({ operator: o.op.id }));
      return node.daemon;
    },
    async stop() {
      await node.daemon?.stop();
      delete node.daemon;
      await mtas?.stop();
      await sink?.stop();
    },
  };
  if (o.daemon !== false) {
    try {
      await node.startDaemon();
    } catch (err) {
      await node.stop();
      throw err;
    }
  }
  return node;
}
