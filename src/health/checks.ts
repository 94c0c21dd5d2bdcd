// What a hospital's supervision must be alerted about (EX_SSI_5120): the liste blanche in
// use getting old, CRLs about to lapse (the gates then refuse peers), certificates about to
// expire (EX_SSI_5085: renew the whitelisted IGC-Santé certificate before expiry), CA
// fingerprints differing from the expected ones (RE_OPE_5040), private keys readable by
// others (EX_SSI_5100: the key is protected and access-limited), the clock not synchronised
// (EX_SDT_5010: trace timestamps). Each check is a pure reading of files and state; the
// same list feeds `mss-sidecar status` and the /metrics endpoint of `serve`.
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { activityKnownSince, describeKnownSince } from '../lifecycle/known-since.js';
import type { StateStore } from '../store/store.js';
import { RedisStore } from '../store/redis.js';
import { readNodeStats, spoolRoot, type SpoolStats } from '../store/spool.js';
import { dovecotEventsSpoolDir, spoolBacklog, type SpoolBacklog } from '../traces/dovecot-events-backlog.js';
import { clusterChecks } from '../cluster/checks.js';
import { describeRedis, type RedisConfig } from '../store/redis-connection.js';
import { describeOwnership, identityName, probeAs, resolveIdentity, type Identity } from './as-user.js';
import { clockSync } from './clock.js';
import { certificatesFromFile, describeCert, type CertInfo } from '../pki/certificate.js';
import { RevocationStore } from '../pki/crl.js';
import { TrustStore } from '../pki/truststore.js';
import { readRecord, whitelistPaths } from '../whitelist/store.js';
import type { CheckResult, Severity } from './check-result.js';
import { takeablePortsCheck } from '../perimeter/takeable-ports.js';

export type { CheckResult, Severity } from './check-result.js';

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
    return {
      check: 'whitelist.age',
      severity: 'critical',
      detail: 'no verified liste blanche yet: run `mss-sidecar whitelist sync`',
      requirement: 'EX_2.2_5035',
    };
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
  // A CA's label is its name already: say it once.
  const name = label === describeCert(cert) ? label : `${label} ${describeCert(cert)}`;
  return {
    check,
    severity,
    detail: `${name} ${when} (${cert.notAfter.toISOString()})`,
    value: days * 86_400,
    labels: { certificate: label },
    requirement: 'EX_SSI_5085',
  };
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
      : {
          check: 'certificate.expiry',
          severity: 'critical' as const,
          detail: `${label} certificate ${file} cannot be read`,
          labels: { certificate: label },
          requirement: 'EX_SSI_5085',
        };
  });
}

/**
 * EX_SSI_5100: the private keys must be readable by the service user (opened for real, as
 * that user: as-user.ts) and by nobody else (group or others in the mode is a warning).
 */
export function keyPermissions(config: Config, id: Identity = resolveIdentity()): CheckResult[] {
  const files: Array<[string, string]> = [['operator', config.operator.key]];
  if (config.auth?.front.enabled && config.auth.front.key !== config.operator.key) files.push(['lps', config.auth.front.key]);
  let readable: boolean[];
  try {
    readable = probeAs(
      id,
      files.map(([, file]) => ({ path: file, access: 'read' as const })),
    ).map((r) => r.ok);
  } catch (err) {
    return [{ check: 'key.permissions', severity: 'unknown', detail: (err as Error).message, requirement: 'EX_SSI_5100' }];
  }
  return files.map(([label, file], i) => {
    if (!readable[i]) {
      return {
        check: 'key.permissions',
        severity: 'critical' as const,
        detail: `${label} key ${file} cannot be read by ${identityName(id)} (${describeOwnership(file)}): \`serve\` would stop`,
        labels: { key: label },
        requirement: 'EX_SSI_5100',
      };
    }
    const mode = fs.statSync(file).mode & 0o777;
    const open = (mode & 0o077) !== 0;
    const octal = mode.toString(8).padStart(4, '0');
    return {
      check: 'key.permissions',
      severity: open ? ('warning' as const) : ('ok' as const),
      detail: open
        ? `${label} key ${file} has mode ${octal}: readable beyond its owner; use chmod 600 (or 640 with a dedicated group)`
        : `${label} key ${file} has mode ${octal}, readable by ${identityName(id)}`,
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
    return [
      {
        check: 'crl.current',
        severity: 'critical',
        detail: 'trust.crlDir is not set: revocation cannot be checked; set it and run `mss-sidecar crl sync`',
        requirement: 'EX_OPE_5050',
      },
    ];
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
    if (!crl)
      return {
        check: 'crl.current',
        severity: 'critical' as const,
        detail: `no CRL of ${name} in ${config.trust.crlDir}: run \`mss-sidecar crl sync\``,
        labels: { issuer: name },
        requirement: 'EX_OPE_5050',
      };
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
 * The state store answers: Redis to PING (and how fast: the gates and the milter wait on
 * it), or the embedded directory is writable by the service user.
 */
export async function storeCheck(config: Config, store: StateStore | undefined, id: Identity = resolveIdentity()): Promise<CheckResult> {
  if (store instanceof RedisStore) {
    const warnMs = config.health.storeLatencyWarnMs;
    const where = config.state.redis ? describeRedis(config.state.redis as RedisConfig) : 'Redis';
    try {
      const ms = await store.ping(2000);
      return {
        check: 'store',
        severity: ms > warnMs ? 'warning' : 'ok',
        detail: `${where} answered PING in ${ms.toFixed(1)} ms${ms > warnMs ? ` (warning above ${warnMs} ms)` : ''}`,
        value: ms / 1000,
        labels: { backend: 'redis' },
      };
    } catch (err) {
      return {
        check: 'store',
        severity: 'warning',
        detail: `${where} does not answer: ${(err as Error).message}; the daemon keeps serving and spools journal events to disk`,
        labels: { backend: 'redis' },
      };
    }
  }
  const dir = path.join(config.state.dir, 'store');
  let ok: boolean;
  try {
    [ok] = probeAs(id, [{ path: dir, access: 'write' }]).map((r) => r.ok) as [boolean];
  } catch (err) {
    return { check: 'store', severity: 'unknown', detail: (err as Error).message, labels: { backend: 'embedded' } };
  }
  return ok
    ? { check: 'store', severity: 'ok', detail: `embedded store ${dir} writable by ${identityName(id)}`, labels: { backend: 'embedded' } }
    : {
        check: 'store',
        severity: 'critical',
        detail: `embedded store ${dir} is not writable by ${identityName(id)} (${describeOwnership(dir)}): logins and messages cannot be recorded`,
        labels: { backend: 'embedded' },
      };
}

/** EX_GBM_4440 EX_GBM_6010: from when inactivity counts (lifecycle/known-since.ts). */
export async function lifecycleActivity(config: Config, store: StateStore | undefined, now: Date): Promise<CheckResult> {
  try {
    const known = await activityKnownSince(config, store, now);
    return { check: 'lifecycle.activity', severity: 'ok', detail: `inactivity counted from ${describeKnownSince(known)}`, requirement: 'EX_GBM_4440' };
  } catch (err) {
    return { check: 'lifecycle.activity', severity: 'unknown', detail: `cannot read the state store: ${(err as Error).message}`, requirement: 'EX_GBM_4440' };
  }
}

/**
 * EX_PSU_5830 EX_PSU_5840: writes waiting in the daemon's spool while Redis did not answer
 * (store/spool.ts). A warning, not critical: nothing is lost, the statistics are complete
 * once they are replayed; a spool that keeps growing means Redis stays down.
 */
export function spoolCheck(stats: SpoolStats | undefined): CheckResult {
  if (!stats || stats.operations === 0) return { check: 'store.spool', severity: 'ok', detail: 'no write waiting for the state store', value: 0 };
  const age = stats.oldest ? ` since ${stats.oldest}` : '';
  return {
    check: 'store.spool',
    severity: 'warning',
    detail: `${stats.operations} journal event(s) and login(s) wait in the local spool${age} (${stats.bytes} bytes): Redis did not take them; they are replayed in order once it answers`,
    value: stats.operations,
  };
}

/** The spools of `serve` (every worker's) as on disk; none without Redis. */
export function spoolOnDisk(config: Config): SpoolStats | undefined {
  return config.state.redis ? readNodeStats(spoolRoot(config)) : undefined;
}

/** How long spooled Dovecot events may wait untraced before `status` says so. */
export const DOVECOT_BACKLOG_WARN_MS = 60_000;

/**
 * EX_GDT_5030: Dovecot's content-operation events wait in their spool, never lost, while `serve`
 * is stopped or cannot write traces (src/traces/dovecot-events-backlog.ts). Events that have
 * waited for a minute with no position committed since mean a hole in the traces until
 * `serve` traces them: a warning naming the spool. `recheckMs`: a second look before warning,
 * since `serve` may be about to read what was just spooled.
 */
export async function dovecotEventsBacklog(config: Config, now: number, recheckMs = 1500): Promise<CheckResult | undefined> {
  if (!config.traces.dovecotEvents.enabled) return undefined;
  const dir = dovecotEventsSpoolDir(config);
  const base = { check: 'traces.dovecotEvents', requirement: 'EX_GDT_5030' };
  let b: SpoolBacklog;
  try {
    b = spoolBacklog(dir);
    const waiting = b.unreadBytes > 0 && (b.committedAt === undefined || now - b.committedAt > DOVECOT_BACKLOG_WARN_MS);
    if (waiting && recheckMs > 0) {
      await delay(recheckMs);
      const again = spoolBacklog(dir);
      if (again.position !== b.position || again.unreadBytes === 0)
        return { ...base, severity: 'ok', detail: `serve is tracing Dovecot's events (${dir})`, value: again.unreadBytes };
    }
    if (!waiting)
      return { ...base, severity: 'ok', detail: `serve traces Dovecot's events as they come (${dir}: ${b.unreadBytes} bytes to read)`, value: b.unreadBytes };
  } catch (err) {
    return { ...base, severity: 'unknown', detail: `cannot read Dovecot's events spool ${dir}: ${(err as Error).message}` };
  }
  const since = b.committedAt === undefined ? 'serve has never traced any' : `untraced since ${new Date(b.committedAt).toISOString()}`;
  return {
    ...base,
    severity: 'warning',
    detail: `${b.unreadBytes} bytes of Dovecot events wait in ${dir}, ${since}: is \`serve\` running (traces.dovecotEvents)? They are kept and traced once it runs; its log says DOVECOT_EVENT_TRACE when it cannot write traces`,
    value: b.unreadBytes,
  };
}

/** What the checks read besides the configuration: the open store, the service user. */
export interface HealthDeps {
  store?: StateStore;
  identity?: Identity;
}

export async function runHealthChecks(
  config: Config,
  now = new Date(),
  t: HealthThresholds = thresholdsFrom(config),
  deps: HealthDeps = {},
): Promise<CheckResult[]> {
  const id = deps.identity ?? resolveIdentity();
  const ntp = config.health.clock.ntpServer
    ? {
        server: config.health.clock.ntpServer,
        port: config.health.clock.ntpPort,
        maxOffsetMs: config.health.clock.maxOffsetMs,
        timeoutMs: config.health.clock.timeoutMs,
      }
    : undefined;
  return [
    whitelistAge(config, now),
    ...certificates(config, now, t),
    ...keyPermissions(config, id),
    ...trustStore(config, now, t),
    ...(await crls(config, now, t)),
    await clockSync(undefined, ntp),
    await storeCheck(config, deps.store, id),
    ...(config.state.redis ? [spoolCheck(spoolOnDisk(config))] : []),
    await lifecycleActivity(config, deps.store, now),
    // Several nodes: nodes seen, lease holders, Redis role and replicas, registry (docs/cluster.md).
    ...(config.state.redis && deps.store ? await clusterChecks(config, deps.store, now.getTime()) : []),
    submissionMode(config),
    ...[await dovecotEventsBacklog(config, now.getTime())].filter((r) => r !== undefined),
    takeablePortsCheck(config),
    ...(await postfixRoutes(config, now)),
  ];
}

/**
 * `submission.mode: monitor` is for roll-outs: the sending rules then only log what they would
 * refuse, and every message goes through. Say so where supervision looks (value 1: monitor).
 */
export function submissionMode(config: Config): CheckResult {
  const monitor = config.submission.mode === 'monitor';
  return {
    check: 'submission.mode',
    severity: monitor ? 'warning' : 'ok',
    detail: monitor
      ? 'submission.mode is monitor: the sending rules (40 recipients, liste blanche, suspended and test mailboxes, sender rights…) only log "would refuse" and every message goes through; set enforce once the roll-out is checked'
      : 'submission.mode is enforce: the sending rules refuse what breaks them',
    value: monitor ? 1 : 0,
    requirement: 'EX_GBM_4420',
  };
}

const ROUTES_CACHE_MS = 300_000;
let routesCache: { key: string; at: number; results: CheckResult[] } | undefined;

/**
 * EX_3.2_5040, EX_3.2_5060: every listed MSSanté domain not ours leaves through the outbound
 * gate (src/perimeter/route-check.ts). Only with the outbound gate on; computed at most every
 * 5 minutes (it runs postconf/postmap and reads the whole liste blanche).
 */
export async function postfixRoutes(config: Config, now: Date): Promise<CheckResult[]> {
  if (!config.gates.out.enabled) return [];
  const key = `${config.state.dir}\n${config.gates.out.postfixConfigDir ?? ''}`;
  if (routesCache && routesCache.key === key && now.getTime() - routesCache.at < ROUTES_CACHE_MS && now.getTime() >= routesCache.at) return routesCache.results;
  const { checkConfiguredRoutes, describeProblem } = await import('../perimeter/route-check.js');
  const { createLogger } = await import('../log.js');
  let result: CheckResult;
  try {
    const r = await checkConfiguredRoutes(config, createLogger({ level: 'silent', pretty: false }));
    const shown = r.problems.slice(0, 3).map((p) => describeProblem(p, r.sendersChecked));
    result = {
      check: 'postfix.routes',
      severity: r.problems.length > 0 ? 'critical' : 'ok',
      detail:
        r.problems.length > 0
          ? `${r.problems.length} route(s) to listed MSSanté domains bypass the outbound gate (${r.gate}): ${shown.join('; ')}${r.problems.length > 3 ? '; …' : ''} — see \`mss-sidecar postfix check-routes\``
          : `the ${r.domainsChecked} listed MSSanté domains not ours go to the outbound gate (${r.gate}) for the ${r.sendersChecked} senders checked`,
      value: r.problems.length,
      requirement: 'EX_3.2_5040',
    };
  } catch (err) {
    result = { check: 'postfix.routes', severity: 'unknown', detail: `routes not checked: ${(err as Error).message}`, requirement: 'EX_3.2_5040' };
  }
  routesCache = { key, at: now.getTime(), results: [result] };
  return [result];
}

export function worstSeverity(results: readonly CheckResult[]): Severity {
  const order: Severity[] = ['ok', 'unknown', 'warning', 'critical'];
  return results.reduce<Severity>((worst, r) => (order.indexOf(r.severity) > order.indexOf(worst) ? r.severity : worst), 'ok');
}
