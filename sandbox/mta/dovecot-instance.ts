// A private Dovecot 2.3 instance under one directory (sandbox and integration tests):
// generated dovecot.conf with its own base/state dirs and log, IMAP/LMTP listeners on
// loopback ports, a SASL socket Postfix can use, started in the foreground as a child
// process group and stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../../src/errors.js';
import { claimInstance, reapOrphanInstances } from './orphans.js';
import { killProcessGroup, sleep, waitForExit } from '../../src/util/process-group.js';

export interface DovecotInstanceOptions {
  dir: string;
  /** Loopback ports; a protocol is enabled when its port is given. */
  imapPort?: number;
  lmtpPort?: number;
  /** TLS for IMAP STARTTLS (PEM files). Without them, ssl = no. */
  tlsCert?: string;
  tlsKey?: string;
  /**
   * Authentication configuration (passdb/userdb blocks, auth_mechanisms...). Defaults to a
   * static passdb accepting any user with the password `secret`, for delivery tests.
   */
  authConfig?: string;
  /**
   * The userdb block. Default: a static userdb in which every address is a user (the gates
   * and the milter have checked recipients against the registry), mail in `<dir>/mail/<domain>/<local>`.
   */
  userdbConfig?: string;
  /** Further configuration appended verbatim (settings, service blocks). */
  extraConfig?: string;
  /**
   * A configuration written by the caller (a Debian one, sandbox/mta/dovecot-debian.ts), run as it
   * is: its log_path must be `<dir>/dovecot.log`; Dovecot is up once `readySocket` exists.
   */
  prepared?: { configFile: string; readySocket: string };
}

export class DovecotInstance {
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly mailDir: string;
  /** Dovecot SASL socket for Postfix (`smtpd_sasl_path`). */
  readonly authSocket: string;
  private child: ChildProcess | undefined;
  // Only while the child runs: once it has exited, its PID (the group's ID) may be another
  // process's (a Postfix master, which is a group leader too) by the time this process exits.
  private readonly exitGuard = (): void => {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) killProcessGroup(this.child, 'SIGKILL');
  };

  constructor(private readonly opts: DovecotInstanceOptions) {
    this.dir = path.resolve(opts.dir);
    this.configFile = opts.prepared?.configFile ?? path.join(this.dir, 'dovecot.conf');
    this.logFile = path.join(this.dir, 'dovecot.log');
    this.mailDir = path.join(this.dir, 'mail');
    this.authSocket = opts.prepared?.readySocket ?? path.join(this.dir, 'auth-client');
  }

  static available(): boolean {
    return spawnSync('dovecot', ['--version'], { stdio: 'ignore' }).status === 0;
  }

  writeConfig(): void {
    for (const d of ['run', 'state', 'mail']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    fs.chmodSync(this.dir, 0o755);
    const mailUid = Number(spawnSync('id', ['-u', 'mail'], { encoding: 'utf8' }).stdout.trim());
    const mailGid = Number(spawnSync('id', ['-g', 'mail'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(this.mailDir, mailUid, mailGid);
    const protocols = [this.opts.imapPort !== undefined ? 'imap' : '', this.opts.lmtpPort !== undefined ? 'lmtp' : ''].filter(Boolean);
    const tls = this.opts.tlsCert && this.opts.tlsKey;
    const lines = [
      `base_dir = ${path.join(this.dir, 'run')}`,
      `state_dir = ${path.join(this.dir, 'state')}`,
      `log_path = ${this.logFile}`,
      // Unique per instance: several run side by side (one per simulated operator).
      `instance_name = dovecot-${path.basename(path.dirname(this.dir))}-${path.basename(this.dir)}`,
      `protocols = ${protocols.join(' ') || 'none'}`,
      'listen = 127.0.0.1',
      tls ? 'ssl = required' : 'ssl = no',
      ...(tls ? [`ssl_cert = <${this.opts.tlsCert}`, `ssl_key = <${this.opts.tlsKey}`] : []),
      tls ? 'disable_plaintext_auth = yes' : 'disable_plaintext_auth = no',
      'first_valid_uid = 1',
      'mail_uid = mail',
      'mail_gid = mail',
      `mail_location = maildir:${this.mailDir}/%d/%n`,
      this.opts.authConfig ?? ['auth_mechanisms = plain', 'passdb {', '  driver = static', '  args = password=secret', '}'].join('\n'),
      this.opts.userdbConfig ?? ['userdb {', '  driver = static', `  args = uid=mail gid=mail home=${this.mailDir}/%d/%n allow_all_users=yes`, '}'].join('\n'),
      'service imap-login {',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${this.opts.imapPort ?? 0}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service lmtp {',
      '  inet_listener lmtp {',
      '    address = 127.0.0.1',
      `    port = ${this.opts.lmtpPort ?? 0}`,
      '  }',
      '}',
      'service auth {',
      `  unix_listener ${this.authSocket} {`,
      '    mode = 0666',
      '  }',
      '}',
      this.opts.extraConfig ?? '',
    ];
    fs.writeFileSync(this.configFile, `${lines.join('\n')}\n`);
  }

  async start(timeoutMs = 10_000): Promise<void> {
    if (!this.opts.prepared) this.writeConfig();
    reapOrphanInstances();
    claimInstance(this.dir);
    // The reaper finds an instance by its configuration's directory (a prepared one is in etc/).
    if (this.opts.prepared) claimInstance(path.dirname(this.configFile));
    const before = this.log().length;
    this.child = spawn('dovecot', ['-F', '-c', this.configFile], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    process.once('exit', this.exitGuard);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = this.log().slice(before);
      if (/starting up/.test(log) && fs.existsSync(this.authSocket)) return;
      if (this.child.exitCode !== null || /Fatal:/.test(log)) {
        await this.stop();
        throw new MssError('DOVECOT_START', `Dovecot in ${this.dir} did not start:\n${stderr}${log}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new MssError('DOVECOT_START', `Dovecot in ${this.dir} did not start within ${timeoutMs} ms:\n${stderr}${log}`);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    // A child that exited earlier (a crash) is not signalled: its PID, the group's ID, may be
    // another process's by now. Right after it exits, the number cannot have been reused yet:
    // the last SIGKILL takes the workers it left.
    if (child.exitCode === null && child.signalCode === null) {
      killProcessGroup(child, 'SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        killProcessGroup(child, 'SIGKILL');
        await waitForExit(child, 2000);
      }
      killProcessGroup(child, 'SIGKILL');
    }
    process.off('exit', this.exitGuard);
    this.child = undefined;
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Messages delivered to a mailbox's INBOX (maildir new/ and cur/). */
  delivered(address: string): string[] {
    const [local, domain] = address.split('@');
    const base = path.join(this.mailDir, domain ?? '', local ?? '');
    const out: string[] = [];
    for (const sub of ['new', 'cur']) {
      const d = path.join(base, sub);
      if (fs.existsSync(d)) for (const f of fs.readdirSync(d).sort()) out.push(path.join(d, f));
    }
    return out;
  }
}
