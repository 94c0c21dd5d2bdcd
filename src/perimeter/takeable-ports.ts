// The internal listeners a local user could take while their owner is stopped (a restart, a
// crash): a TCP port at or above net.ipv4.ip_unprivileged_port_start (1024 on Debian) can be
// bound by any process, which then answers in the owner's place — "ok" to Dovecot's Lua passdb,
// "accept" to Postfix for every message, the LPS sessions the fronts hand over, Dovecot's login
// events. The shipped defaults are unix sockets or ports below 1024 (docs/install.md, "The
// perimeter"); a site that configures one back above says so in `config check` and `status`.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import type { CheckResult } from '../health/check-result.js';

export interface TakeableListener {
  /** The configuration key, e.g. `auth.checker.listen`. */
  key: string;
  host: string;
  port: number;
  /** Who relies on it, and what a process bound there in its place would get. */
  risk: string;
}

const PORT_START_FILE = '/proc/sys/net/ipv4/ip_unprivileged_port_start';

/** The lowest port any process may bind (Linux ≥ 4.11; 1024 where the file is absent). */
export function unprivilegedPortStart(file = PORT_START_FILE): number {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n >= 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** The internal TCP listeners of this configuration that an unprivileged process could bind (port ≥ `start`). */
export function takeableListeners(c: Config, start = unprivilegedPortStart()): TakeableListener[] {
  const all: TakeableListener[] = [];
  const add = (key: string, ep: { host: string; port: number }, risk: string): void => {
    all.push({ key, host: ep.host, port: ep.port, risk });
  };
  // EX_LPS_0900: Dovecot's Lua passdb opens the mailbox the checker says "ok" to.
  if (c.auth) add('auth.checker.listen', c.auth.checker.listen, 'Dovecot\'s Lua passdb would take another process\'s "ok" and open any mailbox');
  // EX_GBM_4420: Postfix applies the sending rules the milter answers.
  if (c.milter.enabled && c.milter.listen.kind === 'inet') add('milter.listen', c.milter.listen, 'Postfix would take every message a process there accepts');
  // EX_GDT_5030: the content-operation traces come from these events.
  if (c.traces.dovecotEvents.enabled)
    add('traces.dovecotEvents.listen', c.traces.dovecotEvents.listen, "a process there would read Dovecot's events and the traces would miss them");
  // EX_3.2_5060: Postfix hands every message for another operator to the outbound gate.
  if (c.gates.out.enabled && c.gates.out.listen.endpoint.kind === 'inet')
    add('gates.out.listen', c.gates.out.listen.endpoint, 'Postfix would hand the mail for other operators to a process there');
  // EX_3.1_5020: the inbound gate hands verified mail to Postfix there.
  if (c.gates.in.enabled && c.gates.in.postfix.endpoint.kind === 'inet')
    add('gates.in.postfix', c.gates.in.postfix.endpoint, 'the inbound gate would hand received mail to a process there');
  // EX_LPS_1000: the fronts hand the LPS's sessions (and their one-time tickets) to these.
  if (c.auth?.front.enabled) {
    add('auth.front.imap.backend', c.auth.front.imap.backend, "the IMAP front would hand the LPS's sessions to a process there");
    add('auth.front.submission.backend', c.auth.front.submission.backend, "the submission front would hand the LPS's sessions to a process there");
  }
  if (c.auth?.authCli?.enabled) {
    add('auth.authCli.imap.backend', c.auth.authCli.imap.backend, "the AUTH-CLI front would hand the LPS's sessions to a process there");
    add('auth.authCli.submission.backend', c.auth.authCli.submission.backend, "the AUTH-CLI front would hand the LPS's sessions to a process there");
  }
  // Port 0 asks the system for a free port (tests): nobody relies on a fixed one.
  return all.filter((l) => l.port !== 0 && l.port >= start);
}

export function describeTakeable(l: TakeableListener): string {
  return `${l.key} is ${l.host}:${l.port}: ${l.risk}`;
}

/** `status` and `/metrics`: WARN naming each key (value: how many). */
export function takeablePortsCheck(c: Config, start = unprivilegedPortStart()): CheckResult {
  const found = takeableListeners(c, start);
  return {
    check: 'perimeter.ports',
    severity: found.length > 0 ? 'warning' : 'ok',
    detail:
      found.length > 0
        ? `${found.map(describeTakeable).join('; ')} — any local user can bind a port from ${start} up (net.ipv4.ip_unprivileged_port_start) while its owner is stopped: use a unix socket or a port below ${start} (docs/install.md, "The perimeter")`
        : `no internal listener on a port from ${start} up that a local user could bind while its owner is stopped`,
    value: found.length,
  };
}
