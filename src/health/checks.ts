// What a hospital's supervision must be alerted about (EX_SSI_5120): the liste blanche in
// use getting old, CRLs about to lapse (the gates then refuse peers), certificates about to
// expire (EX_SSI_5085: renew the whitelisted IGC-Santé certificate before expiry), CA
// fingerprints differing from the expected ones (RE_OPE_5040), private keys readable by
// others (EX_SSI_5100: the key is protected and access-limited), the clock not synchronised
// (EX_SDT_5010: trace timestamps). Each check is a pure reading of files and state; the
// same list feeds `mss-sidecar status` and the /metrics endpoint of `serve`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { certificatesFromFile, describeCert, type CertInfo } from '../pki/certificate.js';
import { RevocationStore } from '../pki/crl.js';
import { TrustStore } from '../pki/truststore.js';
import { readRecord, whitelistPaths } from '../whitelist/store.js';

export type Severity = 'ok' | 'warning' | 'critical' | 'unknown';

export interface CheckResult {
  /** Stable name, e.g. `whitelist.age`, `certificate.operator`. */
  check: string;
  severity: Severity;
  detail: string;
  /** The measured value for metrics (seconds, days…), when there is one. */
  value?: number;
  /** Labels for the metric (which certificate, which CA). */
  labels?: Record<string, string>;
  /** Requirement the check supports. */
  requirement?: string;
}

const DAY = 86_400_000;

export interface HealthThresholds {
  certWarnDays: number;
  certCriticalDays: number;
  crlWarnHours: number;
}

export function thresholdsFrom(config: Config): HealthThresholds {
  return { certWarnDays: config.health.certificateWarnDays, certCriticalDays: config.health.certificateCriticalDays, crlWarnHours: config.health.crlWarnHours };
}

/** EX_2.2_5035/5040: the list in use is the last verified one; say how old it is. */
export function whitelistAge(config: Config, now: Date): CheckResult {
  const record = readRecord(whitelistPaths(config.state.dir));
  if (!record) {
    return { check: 'whitelist.age', severity: 'critical', detail: 'no verified liste blanche yet: run `mss-sidecar whitelist sync`', requirement: 'EX_2.2_5035' };
  }
  const ageSeconds = Math.max(0, (now.getTime() - Date.parse(record.confirmedAt)) / 1000);
  const hours = ageSeconds / 3600;
  const max = config.whitelist.maxAgeHours;
  const severity: Severity = hours > 4 * max ? 'critical' : hours > max ? 'warning' : 'ok';
  return {
    check: 'whitelist.age',
    severity,
    detail: `liste blanche generated ${record.generated}, last confirmed ${record.confirmedAt} (${hours.toFixed(1)} h ago; warning above ${max} h)`,
    value: ageSeconds,
    requirement: 'EX_2.2_5010',
  };
}

function certExpiry(check: string, label: string, cert: CertInfo, now: Date, t: HealthThresholds): CheckResult {
  const days = (cert.notAfter.getTime() - now.getTime()) / DAY;
  // EX_SSI_5085: alert early enough to order and install the renewed certificate.
  const severity: Severity = days < t.certCriticalDays ? 'critical' : days < t.certWarnDays ? 'warning' : 'ok';
  const when = days < 0 ? `expired ${(-days).toFixed(0)} days ago` : `expires in ${days.toFixed(0)} days`;
  return { check, severity, detail: `${label} ${describeCert(cert)} ${when} (${cert.notAfter.toISOString()})`, value: days * 86_400, labels: { certificate: label }, requirement: 'EX_SSI_5085' };
}

function readCert(file: string): CertInfo | undefined {
  try {
    return certificatesFromFile(fs.readFileSync(file), file)[0];
  } catch {
    return undefined;
  }
}

/** The operator certificate (and the LPS entry points' one) must be renewed in time. */
export function certificates(config: Config, now: Date, t: HealthThresholds): CheckResult[] {
  const files: Array<[string, string]> = [['operator', config.operator.certificate]];
  if (config.auth?.front.enabled && config.auth.front.certificate !== config.operator.certificate) files.push(['lps', config.auth.front.certificate]);
  return files.map(([label, file]) => {
    const cert = readCert(file);
    return cert
      ? certExpiry('certificate.expiry', label, cert, now, t)
      : { check: 'certificate.expiry', severity: 'critical' as const, detail: `${label} certificate ${file} cannot be read`, labels: { certificate: label }, requirement: 'EX_SSI_5085' };
  });
}

/** EX_SSI_5100: a private key readable by group or others is not access-limited. */
export function keyPermissions(config: Config): CheckResult[] {
  const files: Array<[string, string]> = [['operator', config.operator.key]];
  if (config.auth?.front.enabled && config.auth.front.key !== config.operator.key) files.push(['lps', config.auth.front.key]);
  return files.map(([label, file]) => {
    let mode: number;
    try {
      mode = fs.statSync(file).mode & 0o777;
    } catch (err) {
      return { check: 'key.permissions', severity: 'critical' as const, detail: `${label} key ${file} cannot be read: ${(err as Error).message}`, labels: { key: label }, requirement: 'EX_SSI_5100' };
    }
    const open = (mode & 0o077) !== 0;
    return {
      check: 'key.permissions',
      severity: open ? ('warning' as const) : ('ok' as const),
      detail: open ? `${label} key ${file} has mode ${mode.toString(8)}: readable beyond its owner; use chmod 600 (or 640 with a dedicated group)` : `${label} key ${file} has mode ${mode.toString(8)}`,
      value: mode,
      labels: { key: label },
      requirement: 'EX_SSI_5100',
    };
  });
}

/**
 * Every CA of the trust store: its expiry, and its SHA-256 fingerprint compared with the
 * expected ones when the configuration lists them (RE_OPE_5040).
 */
export function trustStore(config: Config, now: Date, t: HealthThresholds): CheckResult[] {
  let trust: TrustStore;
  try {
    trust = TrustStore.fromDir(config.trust.dir);
  } catch (err) {
    return [{ check: 'trust.store', severity: 'critical', detail: (err as Error).message, requirement: 'EX_OPE_5040' }];
  }
  const expected = new Set((config.trust.expectedFingerprints ?? []).map(normaliseFingerprint));
  return trust.certificates.flatMap((ca) => {
    const name = describeCert(ca);
    const out = [certExpiry('ca.expiry', name, ca, now, t)];
    if (expected.size > 0) {
      const known = expected.has(normaliseFingerprint(ca.fingerprint256));
      out.push({
        check: 'ca.fingerprint',
        severity: known ? 'ok' : 'critical',
        detail: `${name} SHA-256 ${ca.fingerprint256}${known ? '' : ' is not among trust.expectedFingerprints: compare it with the IGC-Santé publication'}`,
        labels: { certificate: name },
        requirement: 'RE_OPE_5040',
      });
    }
    return out;
  });
}

export function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/** EX_OPE_5050: a current CRL for every CA that issues peers' certificates. */
export async function crls(config: Config, now: Date, t: HealthThresholds): Promise<CheckResult[]> {
  if (!config.trust.crlDir) {
    return [{ check: 'crl.current', severity: 'critical', detail: 'trust.crlDir is not set: revocation cannot be checked; set it and run `mss-sidecar crl sync`', requirement: 'EX_OPE_5050' }];
  }
  let trust: TrustStore;
  try {
    trust = TrustStore.fromDir(config.trust.dir);
  } catch {
    return [];
  }
  const store = await RevocationStore.fromDir(config.trust.crlDir, trust, now);
  return trust.certificates.map((ca) => {
    const name = describeCert(ca);
    const crl = store.crls.find((c) => c.issuer.fingerprint256 === ca.fingerprint256);
    if (!crl) return { check: 'crl.current', severity: 'critical' as const, detail: `no CRL of ${name} in ${config.trust.crlDir}: run \`mss-sidecar crl sync\``, labels: { issuer: name }, requirement: 'EX_OPE_5050' };
    const left = crl.nextUpdate ? (crl.nextUpdate.getTime() - now.getTime()) / 1000 : Infinity;
    const severity: Severity = left <= 0 ? 'critical' : left < t.crlWarnHours * 3600 ? 'warning' : 'ok';
    return {
      check: 'crl.current',
      severity,
      detail: `CRL of ${name}: thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? 'none'}${left <= 0 ? ' — out of date' : ''}`,
      ...(Number.isFinite(left) ? { value: left } : {}),
      labels: { issuer: name },
      requirement: 'EX_OPE_5050',
    };
  });
}

/**
 * EX_SDT_5010: ask the time daemon whether the clock is synchronised. Without a tool that
 * answers (containers, no systemd), the result is "unknown" rather than a false alarm.
 */
export type ClockProbe = [command: string, args: string[], read: (stdout: string) => boolean | undefined];

export const CLOCK_PROBES: ClockProbe[] = [
  ['timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], (o) => (o.trim() === 'yes' ? true : o.trim() === 'no' ? false : undefined)],
  ['chronyc', ['-n', 'tracking'], (o) => (/Leap status\s*:\s*Normal/.test(o) ? true : /Leap status\s*:\s*Not synchronised/.test(o) ? false : undefined)],
];

export function clockSync(probes: readonly ClockProbe[] = CLOCK_PROBES): CheckResult {
  for (const [cmd, args, read] of probes) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 3000 });
    if (r.error || r.status !== 0) continue;
    const synced = read(r.stdout);
    if (synced === undefined) continue;
    return {
      check: 'clock.sync',
      severity: synced ? 'ok' : 'critical',
      detail: synced ? `${cmd}: clock synchronised` : `${cmd}: the clock is not synchronised; trace timestamps are not reliable`,
      value: synced ? 1 : 0,
      requirement: 'EX_SDT_5010',
    };
  }
  return { check: 'clock.sync', severity: 'unknown', detail: 'neither timedatectl nor chronyc answered: check NTP synchronisation by other means', requirement: 'EX_SDT_5010' };
}

export async function runHealthChecks(config: Config, now = new Date(), t: HealthThresholds = thresholdsFrom(config)): Promise<CheckResult[]> {
  return [whitelistAge(config, now), ...certificates(config, now, t), ...keyPermissions(config), ...trustStore(config, now, t), ...(await crls(config, now, t)), clockSync()];
}

export function worstSeverity(results: readonly CheckResult[]): Severity {
  const order: Severity[] = ['ok', 'unknown', 'warning', 'critical'];
  return results.reduce<Severity>((worst, r) => (order.indexOf(r.severity) > order.indexOf(worst) ? r.severity : worst), 'ok');
}
