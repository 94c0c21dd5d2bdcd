// What both gates need, built once from the configuration: the operator's certificate, the
// IGC-Santé trust store and its CRLs, the liste blanche and the registry (both reloaded on
// change), the functional traces, the message journal and the activity recorder.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { Journal } from '../journal/journal.js';
import type { Logger } from '../log.js';
import { certInfo, describeCert, type CertInfo } from '../pki/certificate.js';
import { dnValues } from '../pki/dn.js';
import { RevocationHolder } from '../pki/revocation-holder.js';
import { TrustStore } from '../pki/truststore.js';
import { Activity } from '../registry/activity.js';
import type { RegistryHolder } from '../registry/holder.js';
import { openRegistryHolder, openTraceLog } from '../registry/open.js';
import { RuntimeFields } from '../registry/runtime.js';
import { openStore } from '../store/open.js';
import type { StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import { openWhitelistHolder, type WhitelistHolder } from '../whitelist/holder.js';

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

export async function openGateDeps(config: Config, log: Logger): Promise<GateDeps> {
  const operator = operatorIdentity(config);
  const trust = TrustStore.fromDir(config.trust.dir);
  const revocation = await RevocationHolder.open({
    trust,
    ...(config.trust.crlDir ? { dir: config.trust.crlDir } : {}),
    requireCurrent: config.crl.requireCurrent,
    pollMs: config.crl.pollMs,
    log: log.child({ part: 'crl' }),
  });
  const whitelist = await openWhitelistHolder(config, log.child({ part: 'whitelist' }));
  const registry = await openRegistryHolder(config, log.child({ part: 'registry' }));
  const traces = openTraceLog(config);
  const store: StateStore = openStore(config.state);
  const journal = new Journal(store);
  const activity = new Activity({ registry: () => registry.current(), runtime: new RuntimeFields(store), traces });
  return {
    config,
    log,
    operator,
    trust,
    revocation,
    whitelist,
    registry,
    traces,
    journal,
    activity,
    async close() {
      revocation.close();
      whitelist.close();
      registry.close();
      traces.close();
      await store.close();
    },
  };
}
