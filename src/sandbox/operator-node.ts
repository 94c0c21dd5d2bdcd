// One simulated operator as the sandbox and the gate tests run it: its state (the liste
// blanche copy, a registry), its configuration file, a real Postfix configured with the
// pieces of postfix/ when Postfix is installed (an embedded sink otherwise), and its two
// gates in front of it. Everything listens on loopback: the inbound gate on the operator's
// own loopback address (127.0.0.N) at the port every operator uses for "port 25".
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { configSchema, type Config, type ConfigInput } from '../config/schema.js';
import { MssError } from '../errors.js';
import { startGates, type RunningGates } from '../gate/service.js';
import type { Logger } from '../log.js';
import { PostfixInstance } from '../mta/postfix-instance.js';
import { mainPieces, serviceLine, servicePiece } from '../mta/postfix-pieces.js';
import { freePorts } from '../util/free-port.js';
import { whitelistPaths } from '../whitelist/store.js';
import { MailSink } from './mail-sink.js';
import type { PkiManifest } from './pki.js';

export type PkiOperator = PkiManifest['operators'][number];

export interface OperatorNodeOptions {
  dir: string;
  pki: PkiManifest;
  op: PkiOperator;
  /** The signed liste blanche, stored as this operator's last valid copy. */
  list: Buffer;
  registryYaml: string;
  /** This operator's MX address: where its inbound gate listens. */
  mx: { host: string; port: number };
  /** Port of the other operators' inbound gates (the sandbox's "port 25"). */
  remotePort: number;
  /** Resolver for MX lookups ("127.0.0.1:PORT"). */
  dns: string;
  log: Logger;
  /** Run a real Postfix (needs Postfix installed and root); otherwise an embedded sink. */
  postfix: boolean;
  /** Start the gates in this process (default true); false: write the configuration only. */
  startGates?: boolean;
  /** Extra configuration merged over the defaults (e.g. shorter timeouts in tests). */
  configure?: (c: ConfigInput) => void;
  /** Extra main.cf parameters for this operator's Postfix (benchmarks). */
  postfixMain?: Record<string, string>;
}

export interface OperatorNode {
  op: PkiOperator;
  config: Config;
  configFile: string;
  postfix?: PostfixInstance;
  sink?: MailSink;
  /** Loopback ports: Postfix's gate listener, the outbound gate, Postfix's injection listener. */
  ports: { postfixGate: number; gateOut: number; inject: number };
  gates?: RunningGates;
  /** Messages that reached this operator's mail store (Postfix maildir or the sink). */
  delivered(): string[];
  startGates(): Promise<RunningGates>;
  stop(): Promise<void>;
}

/** Can this machine run the real Postfix for the sandbox? MSS_SANDBOX_MTA=sink forces the sink. */
export function realPostfixAvailable(): boolean {
  if (process.env.MSS_SANDBOX_MTA === 'sink') return false;
  return PostfixInstance.available() && process.getuid?.() === 0;
}

function postfixFor(o: OperatorNodeOptions, ports: OperatorNode['ports']): PostfixInstance {
  const listener = servicePiece('127.0.0.1:10025/inet');
  const transport = servicePiece('mss-gate-out/unix');
  if (!listener || !transport) throw new MssError('SANDBOX_POSTFIX_PIECES', 'postfix/master.cf.d has no 127.0.0.1:10025/inet or mss-gate-out/unix service');
  return new PostfixInstance({
    dir: path.join(o.dir, 'postfix'),
    myhostname: o.op.fqdn,
    virtualDomains: o.op.domains,
    services: [
      serviceLine(listener, `127.0.0.1:${ports.postfixGate}`),
      serviceLine(transport),
      // Where local users' mail enters (the submission service in production).
      `127.0.0.1:${ports.inject} inet n - n - - smtpd`,
    ],
    main: { ...mainPieces(), default_transport: `mss-gate-out:inet:127.0.0.1:${ports.gateOut}`, ...o.postfixMain },
  });
}

export async function startOperatorNode(o: OperatorNodeOptions): Promise<OperatorNode> {
  const [postfixGate, gateOut, inject] = await freePorts(3);
  const ports = { postfixGate, gateOut, inject };
  const stateDir = path.join(o.dir, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const wl = whitelistPaths(stateDir);
  fs.mkdirSync(wl.dir, { recursive: true });
  fs.writeFileSync(wl.file, o.list);
  const registryFile = path.join(o.dir, 'registry.yaml');
  fs.writeFileSync(registryFile, o.registryYaml);
  const input: ConfigInput = {
    operator: { name: o.op.organisation, domains: o.op.domains, structureId: o.op.structureId, certificate: o.op.cert, key: o.op.key },
    trust: { dir: o.pki.trustDir, crlDir: o.pki.crlDir },
    state: { dir: stateDir },
    registry: { file: registryFile },
    gates: {
      in: { enabled: true, listen: o.mx, postfix: { port: postfixGate } },
      out: { enabled: true, listen: { host: '127.0.0.1', port: gateOut }, remotePort: o.remotePort, dns: { servers: [o.dns] } },
    },
  };
  o.configure?.(input);
  const config = configSchema.parse(input);
  const configFile = path.join(o.dir, 'config.yaml');
  fs.writeFileSync(configFile, `# Generated for sandbox operator ${o.op.id}.\n${stringify(input)}`);

  let postfix: PostfixInstance | undefined;
  let sink: MailSink | undefined;
  if (o.postfix) {
    postfix = postfixFor(o, ports);
    await postfix.start();
  } else {
    sink = new MailSink(path.join(o.dir, 'sink'));
    await sink.start(postfixGate);
  }
  const node: OperatorNode = {
    op: o.op,
    config,
    configFile,
    ...(postfix ? { postfix } : {}),
    ...(sink ? { sink } : {}),
    ports,
    delivered: () => (postfix ? postfix.delivered() : (sink as MailSink).delivered()),
    async startGates() {
      const gates = await startGates(config, o.log.child({ operator: o.op.id }));
      await gates.start();
      node.gates = gates;
      return gates;
    },
    async stop() {
      await node.gates?.stop();
      node.gates = undefined;
      await postfix?.stop();
      await sink?.stop();
    },
  };
  if (o.startGates !== false) {
    try {
      await node.startGates();
    } catch (err) {
      await node.stop();
      throw err;
    }
  }
  return node;
}
