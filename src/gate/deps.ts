// What both gates need, built once from the configuration: the operator's certificate, the
// IGC-Santé trust store and its CRLs, the liste blanche and the registry (both reloaded on
// change), the functional traces, the message journal and the activity recorder.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log.js';
import { certInfo, describeCert, type CertInfo } from '../pki/certificate.js';
import { dnValues } from '../pki/dn.js';
import type { RevocationHolder } from '../pki/revocation-holder.js';
import type { TrustStore } from '../pki/truststore.js';
import type { Activity } from '../registry/activity.js';
import type { RegistryHolder } from '../registry/holder.js';
import type { StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { WhitelistHolder } from '../whitelist/holder.js';
import type { SharedResources } from '../daemon/shared.js';

export interface OperatorIdentity {
  certPem: string;
  keyPem: string;
  cert: CertInfo;
  /** The operator's own DN, as the liste blanche should list it for its domains. */
  dn: string;
  /** CN of the certificate: the connector's FQDN (Tableau 44), default greeting/EHLO name. */
  fqdn: string;
}

export interface GateDeps {
  config: Config;
  log: Logger;
  operator: OperatorIdentity;
  trust: TrustStore;
  revocation: RevocationHolder;
  whitelist: WhitelistHolder;
  registry: RegistryHolder;
  traces: TraceLog;
  journal: Journal;
  /** The state store (shared by the nodes with Redis): the inbound gate's digests. */
  store: StateStore;
  activity: Activity;
  close(): Promise<void>;
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MssError('CONFIG_OPERATOR_CERTIFICATE', `${what} ${file} cannot be read: ${(err as Error).message}`, { file });
  }
}

export function operatorIdentity(config: Config): OperatorIdentity {
  const certPem = readFile(config.operator.certificate, 'operator.certificate');
  const keyPem = readFile(config.operator.key, 'operator.key');
  const cert = certInfo(certPem);
  const fqdn = dnValues(cert.subject, 'CN')[0] ?? 'localhost';
  return { certPem, keyPem, cert, dn: describeCert(cert), fqdn };
}

/**
 * `shared`: the daemon's resources, built once by `serve` (daemon/run.ts): one registry, one
 * store, one trace chain per process, whatever uses them. The gates never open their own.
 */
export async function openGateDeps(config: Config, log: Logger, shared: SharedResources): Promise<GateDeps> {
  const operator = operatorIdentity(config);
  const resources = shared;
  return {
    config,
    log,
    operator,
    trust: resources.trust(),
    revocation: await resources.revocation(),
    whitelist: await resources.whitelist(),
    registry: await resources.registry(),
    traces: resources.traces(),
    journal: resources.journal(),
    store: resources.store(),
    activity: await resources.activity(),
    // Shared resources are the daemon's to close.
    close: async () => {},
  };
}
