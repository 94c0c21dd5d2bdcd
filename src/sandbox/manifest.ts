// D/sandbox.json: what a running sandbox offers, for tests, scripts and people. Each
// component adds its endpoints; later parts (Pro Santé Connect, Annuaire, SIPIL, SMTP
// gates) add an optional key to SandboxEndpoints.
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../errors.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';

export interface SandboxEndpoints {
  /** The liste blanche host (TM4.1P) and its fault-injection control port. */
  whitelist?: { url: string; control: string; published: string };
  /**
   * Pro Santé Connect (src/sandbox/psc): the issuer (`url` too), the mint endpoint
   * (POST {"idNat": "…", "ttlSeconds": N} → {"access_token": "…"}), the key rotation endpoint,
   * the `azp` of minted tokens and the CA that signs its HTTPS certificate.
   */
  psc?: { url: string; issuer: string; mint: string; rotate: string; clientId: string; ca: string };
  /**
   * Operator A's API LPS (real Dovecot and Postfix behind mss-sidecar's checker and fronts):
   * IMAP and submission ports of the PSC and AUTH-CLI entry points, a PER mailbox and its
   * holder's IdNat, an APP mailbox of structure A, and the configuration it runs with.
   * `unavailable` says why it could not start here (Dovecot, Postfix or root missing).
   */
  lps?:
    | { url: string; imap: number; submission: number; authCliImap: number; authCliSubmission: number; mailbox: string; holder: string; appMailbox: string; config: string }
    | { url: string; unavailable: string };
  /** SIPIL statistics web services (postFile, getReport) and their fault-injection control port. */
  sipil?: { url: string; postFile: string; getReport: string; control: string };
  /** The Annuaire's SOAP services (TM1.1.1P), their control port, and each operator's registry file. */
  annuaire?: { url: string; feedUrl: string; reportUrl: string; control: string; registries: Record<string, string> };
  /** The operators' SMTP gates (TM3.1P/TM3.2P), their DNS and the certificates for refusals. */
  gates?: SandboxGates;
}

export interface SandboxGateOperator {
  domains: string[];
  /** The inbound gate: this operator's MX (its own loopback address, the shared port). */
  gateIn: { host: string; port: number };
  /** The outbound gate's LMTP endpoint, where Postfix hands over outgoing mail. */
  gateOut: { host: string; port: number };
  /** Postfix's listener for this operator's local users (absent with the embedded sink). */
  inject?: { host: string; port: number };
  cert: string;
  key: string;
  /** Where delivered messages land (Postfix maildir or sink directory). */
  mailDir: string;
  config: string;
}

export interface SandboxGates {
  /** "postfix": real Postfix instances; "sink": embedded sinks (Postfix not installed or not root). */
  mta: 'postfix' | 'sink';
  /** The loopback DNS responder publishing the operators' MX records. */
  dns: string;
  operators: Record<string, SandboxGateOperator>;
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
    throw new MssError('SANDBOX_NOT_RUNNING', `${file} cannot be read (start the sandbox with \`mss-sidecar sandbox --dir ${dir}\`): ${(err as Error).message}`, { file });
  }
}
