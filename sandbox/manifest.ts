// D/sandbox.json: what a running sandbox offers, for tests, scripts and people. Each
// component adds its endpoints; later parts (Pro Santé Connect, Annuaire, SIPIL, SMTP
// gates) add an optional key to SandboxEndpoints.
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../src/errors.js';
import { atomicWriteFileSync } from '../src/util/atomic-write.js';
import type { OperatorMailboxes } from './gate-registry.js';

export interface SandboxEndpoints {
  /** The liste blanche host (TM4.1P) and its fault-injection control port. */
  whitelist?: { url: string; control: string; published: string };
  /**
   * Pro Santé Connect (sandbox/psc): the issuer (`url` too), the mint endpoint
   * (POST {"idNat": "…", "ttlSeconds": N} → {"access_token": "…"}), the key rotation endpoint,
   * the `azp` of minted tokens and the CA that signs its HTTPS certificate.
   */
  psc?: { url: string; issuer: string; mint: string; rotate: string; clientId: string; ca: string };
  /** SIPIL statistics web services (postFile, getReport) and their fault-injection control port. */
  sipil?: { url: string; postFile: string; getReport: string; control: string };
  /** The Annuaire's SOAP services (TM1.1.1P), their control port, and each operator's registry file. */
  annuaire?: { url: string; feedUrl: string; reportUrl: string; control: string; registries: Record<string, string> };
  /** The simulated operators, each with its mail servers and its `serve` (sandbox/operators-component.ts). */
  operators?: SandboxOperators;
  /** Operator A's professionals' portal (docs/portal.md): sign in there through the sandbox PSC's test login page. */
  portal?: { url: string; operator: string; clientId: string };
}

/** One simulated operator's entry points, as other operators and its LPS reach them. */
export interface SandboxOperatorEndpoints {
  domains: string[];
  /** Its configuration file (`mss-sidecar --config FILE …` runs its jobs). */
  config: string;
  /** Its IGC-Santé server certificate and key (the gates' mutual TLS). */
  cert: string;
  key: string;
  /** The inbound gate: this operator's MX (its own loopback address, the shared port). */
  gateIn: { host: string; port: number };
  /**
   * The outbound gate's LMTP endpoint, where Postfix hands over outgoing mail: its unix socket
   * (only Postfix may connect) with real mail servers, a loopback port with the embedded sink.
   */
  gateOut: { host: string; port: number } | { path: string };
  /** Postfix's listener for mail written on the operator's host (real mail servers only). */
  inject?: { host: string; port: number };
  /** The API LPS entry points, the fronts of 143 and 587 (real mail servers only). */
  lps?: { imap: number; submission: number; authCliImap: number; authCliSubmission: number };
  /** Mailboxes of its registry by role: a PER and its holder, an APP of its structure, a suspended one. */
  mailboxes: OperatorMailboxes;
  /** Where delivered messages land (Dovecot's mail directory, or the embedded sink's). */
  mailDir: string;
}

export interface SandboxOperators {
  /** "real": Postfix and Dovecot with the shipped pieces; "none": embedded sinks behind the gates. */
  mta: 'real' | 'none';
  /** With "none": what this machine lacks. */
  unavailable?: string;
  /** The loopback DNS responder publishing the operators' MX records. */
  dns: string;
  nodes: Record<string, SandboxOperatorEndpoints>;
  /** Certificates a peer may not use: valid but unlisted, expired, revoked. */
  refused: { rogue: { cert: string; key: string }; expired: { cert: string; key: string }; revoked: { cert: string; key: string } };
}

export interface SandboxOperator {
  id: string;
  fqdn: string;
  /** Subject of its server certificate, as listed in the liste blanche. */
  dn: string;
  domains: string[];
  cert: string;
  key: string;
  authCliCert?: string;
  authCliKey?: string;
  /** Ready-to-use configuration file for this operator, and its state directory. */
  config: string;
  stateDir: string;
}

export interface SandboxManifest {
  version: 1;
  startedAt: string;
  pid: number;
  dir: string;
  pki: { dir: string; manifest: string; trustDir: string; crlDir: string; ansSignerCert: string };
  operators: SandboxOperator[];
  /** Configuration of operator A (the operator this machine plays). */
  config: string;
  /** Every domain of the published liste blanche. */
  domains: string[];
  endpoints: SandboxEndpoints;
}

export const SANDBOX_MANIFEST = 'sandbox.json';

export function writeSandboxManifest(m: SandboxManifest): void {
  atomicWriteFileSync(path.join(m.dir, SANDBOX_MANIFEST), `${JSON.stringify(m, null, 2)}\n`, { mode: 0o644 });
}

export function readSandboxManifest(dir: string): SandboxManifest {
  const file = path.join(dir, SANDBOX_MANIFEST);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxManifest;
  } catch (err) {
    throw new MssError(
      'SANDBOX_NOT_RUNNING',
      `${file} cannot be read (start the sandbox with \`mss-sidecar sandbox --dir ${dir}\`): ${(err as Error).message}`,
      { file },
    );
  }
}
