// A private Postfix instance under one directory, for the sandbox and the integration
// tests: its own main.cf/master.cf, queue, data and log, listening on loopback ports of the
// caller's choosing, started in the foreground as a child process group (no systemd, no
// syslog) and stopped by PID. Several instances run side by side.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../../src/errors.js';
import { claimInstance, instanceDirOf, reapOrphanInstances } from './orphans.js';
import { killProcessGroup, sleep, waitForExit } from '../../src/util/process-group.js';

export type PostfixValue = string | number | boolean;

export interface PostfixInstanceOptions {
  /** Instance root; created if missing. Its parents must be traversable by `postfix`. */
  dir: string;
  myhostname: string;
  /** main.cf parameters added to (or overriding) the instance defaults. */
  main?: Record<string, PostfixValue>;
  /** Extra master.cf lines: listeners (`127.0.0.1:2525 inet n - n - - smtpd`) and transports. */
  services?: string[];
  /**
   * Domains delivered locally to one maildir (`<dir>/mail/inbox/`), so a test can see
   * what arrived. Leave empty when the instance only relays.
   */
  virtualDomains?: string[];
}

/** The standard Postfix 3.7 services, without the public `smtp inet` listener. */
const BASE_SERVICES = [
  'pickup    unix  n       -       n       60      1       pickup',
  'cleanup   unix  n       -       n       -       0       cleanup',
  'qmgr      unix  n       -       n       300     1       qmgr',
  'tlsmgr    unix  -       -       n       1000?   1       tlsmgr',
  'rewrite   unix  -       -       n       -       -       trivial-rewrite',
  'bounce    unix  -       -       n       -       0       bounce',
  'defer     unix  -       -       n       -       0       bounce',
  'trace     unix  -       -       n       -       0       bounce',
  'verify    unix  -       -       n       -       1       verify',
  'flush     unix  n       -       n       1000?   0       flush',
  'proxymap  unix  -       -       n       -       -       proxymap',
  'proxywrite unix -       -       n       -       1       proxymap',
  'smtp      unix  -       -       n       -       -       smtp',
  'relay     unix  -       -       n       -       -       smtp',
  'showq     unix  n       -       n       -       -       showq',
  'error     unix  -       -       n       -       -       error',
  'retry     unix  -       -       n       -       -       error',
  'discard   unix  -       -       n       -       -       discard',
  'local     unix  -       n       n       -       -       local',
  'virtual   unix  -       n       n       -       -       virtual',
  'lmtp      unix  -       -       n       -       -       lmtp',
  'anvil     unix  -       -       n       -       1       anvil',
  'scache    unix  -       -       n       -       1       scache',
  // No syslog here: Postfix logs through its own postlogd into maillog_file.
  'postlog   unix-dgram n  -       n       -       1       postlogd',
];

export interface QueuedMessage {
  queue_id: string;
  queue_name: string;
  sender: string;
  recipients: Array<{ address: string; delay_reason?: string }>;
}

export class PostfixInstance {
  readonly dir: string;
  readonly configDir: string;
  readonly maillogFile: string;
  readonly mailDir: string;
  private child: ChildProcess | undefined;
  private readonly exitGuard = (): void => this.signalMaster('SIGKILL');

  constructor(private readonly opts: PostfixInstanceOptions) {
    this.dir = path.resolve(opts.dir);
    this.configDir = path.join(this.dir, 'etc');
    this.maillogFile = path.join(this.dir, 'maillog');
    this.mailDir = path.join(this.dir, 'mail');
  }

  static available(): boolean {
    return spawnSync('postconf', ['-d', 'mail_version'], { stdio: 'ignore' }).status === 0;
  }

  /** Write the configuration (also usable on its own to inspect it). */
  writeConfig(): void {
    const postfixUid = idOf('-u', 'postfix');
    const postfixGid = idOf('-g', 'postfix');
    for (const d of [this.configDir, path.join(this.dir, 'queue'), path.join(this.dir, 'data'), this.mailDir]) fs.mkdirSync(d, { recursive: true });
    // Postfix opens its data directory and delivers mail as `postfix`, not root.
    fs.chmodSync(this.dir, 0o755);
    fs.chownSync(path.join(this.dir, 'data'), postfixUid, postfixGid);
    fs.chownSync(this.mailDir, postfixUid, postfixGid);
    const main: Record<string, PostfixValue> = {
      compatibility_level: '3.6',
      queue_directory: path.join(this.dir, 'queue'),
      data_directory: path.join(this.dir, 'data'),
      mail_owner: 'postfix',
      setgid_group: 'postdrop',
      myhostname: this.opts.myhostname,
      mydomain: this.opts.myhostname.split('.').slice(1).join('.') || 'localdomain',
      myorigin: '$myhostname',
      mydestination: '',
      inet_interfaces: '127.0.0.1',
      inet_protocols: 'ipv4',
      mynetworks: '127.0.0.0/8',
      maillog_file: this.maillogFile,
      maillog_file_prefixes: `/var, /dev/stdout, ${this.dir}`,
      smtputf8_enable: 'yes',
      biff: 'no',
      alias_maps: '',
      alias_database: '',
      // Fast retries in tests and sandbox; production settings ship in postfix/.
      queue_run_delay: '1s',
      minimal_backoff_time: '1s',
      maximal_backoff_time: '5s',
      ...(this.opts.virtualDomains && this.opts.virtualDomains.length > 0
        ? {
            virtual_mailbox_domains: this.opts.virtualDomains.join(', '),
            virtual_mailbox_base: this.mailDir,
            virtual_mailbox_maps: 'static:inbox/',
            virtual_uid_maps: `static:${postfixUid}`,
            virtual_gid_maps: `static:${postfixGid}`,
          }
        : {}),
      ...this.opts.main,
    };
    const mainCf = Object.entries(main)
      .map(([k, v]) => `${k} = ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`)
      .join('\n');
    fs.writeFileSync(path.join(this.configDir, 'main.cf'), `${mainCf}\n`);
    fs.writeFileSync(path.join(this.configDir, 'master.cf'), `${[...(this.opts.services ?? []), ...BASE_SERVICES].join('\n')}\n`);
  }

  /** `keepConfig`: run the configuration as it is now (written, then changed by postfix-apply.sh). */
  async start(timeoutMs = 10_000, opts: { keepConfig?: boolean } = {}): Promise<void> {
    if (!opts.keepConfig) this.writeConfig();
    // Output to a file, not a pipe: a helper `postfix check` leaves behind keeps a pipe open
    // for about 2 s, and spawnSync would wait for it.
    const checkLog = path.join(this.dir, 'postfix-check.log');
    const fd = fs.openSync(checkLog, 'w');
    const check = spawnSync('postfix', ['-c', this.configDir, 'check'], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    if (check.status !== 0) throw new MssError('POSTFIX_CONFIG', `postfix check failed for ${this.configDir}: ${fs.readFileSync(checkLog, 'utf8')}`);
    // We ran `postfix check` ourselves: `quick-start` makes postfix-script skip its own
    // slower integrity checks (about 2 s).
    fs.writeFileSync(path.join(this.dir, 'queue', 'quick-start'), '');
    reapOrphanInstances();
    claimInstance(this.dir);
    const logBefore = this.maillog().length;
    this.child = spawn('postfix', ['-c', this.configDir, 'start-fg'], { detached: true, stdio: 'ignore' });
    process.once('exit', this.exitGuard);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = this.maillog().slice(logBefore);
      if (/daemon started/.test(log) && this.masterPid() !== undefined) return;
      if (/fatal:/.test(log) || this.child.exitCode !== null) {
        await this.stop();
        throw new MssError('POSTFIX_START', `Postfix in ${this.dir} did not start:\n${log}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new MssError('POSTFIX_START', `Postfix in ${this.dir} did not start within ${timeoutMs} ms:\n${log}`);
      }
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    // master calls setsid(), so it is not in our child's process group: signal it by the PID
    // it records. SIGTERM is what `postfix stop` sends, without its 1 s polling loop.
    this.signalMaster('SIGTERM');
    if (!(await waitForExit(child, 5000))) {
      this.signalMaster('SIGKILL');
      killProcessGroup(child, 'SIGKILL');
      await waitForExit(child, 2000);
    }
    process.off('exit', this.exitGuard);
    this.child = undefined;
  }

  /** Kill Postfix abruptly (a crash), leaving the queue as it is. */
  kill(): void {
    this.signalMaster('SIGKILL');
  }

  /** PID of the running master, from `<queue>/pid/master.pid`. */
  masterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Only this instance's master: master.pid outlives the master, and on a machine where tests
   * start ~100 processes a second (pid_max 32768) its number is another process's within
   * minutes — another test's Postfix master, whose listener then vanished (ECONNREFUSED).
   */
  private signalMaster(signal: NodeJS.Signals): void {
    const pid = this.masterPid();
    if (pid === undefined || instanceDirOf(pid) !== this.dir) return;
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  maillog(): string {
    try {
      return fs.readFileSync(this.maillogFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Messages in the queue (`postqueue -j`). */
  queue(): QueuedMessage[] {
    const r = spawnSync('postqueue', ['-c', this.configDir, '-j'], { encoding: 'utf8' });
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as QueuedMessage);
  }

  /** Ask the queue manager to retry deferred mail now. */
  flush(): void {
    spawnSync('postqueue', ['-c', this.configDir, '-f'], { stdio: 'ignore' });
  }

  /** Full paths of the messages delivered to `<dir>/mail/inbox/`. */
  delivered(): string[] {
    const out: string[] = [];
    for (const sub of ['new', 'cur']) {
      const d = path.join(this.mailDir, 'inbox', sub);
      if (fs.existsSync(d)) for (const f of fs.readdirSync(d).sort()) out.push(path.join(d, f));
    }
    return out;
  }

  /** Resolve when `predicate` holds on the instance, polling; reject with the log after `timeoutMs`. */
  async waitFor(predicate: (pf: this) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline)
        throw new MssError('POSTFIX_WAIT', `timed out waiting for ${what} on Postfix in ${this.dir}; maillog:\n${this.maillog().slice(-4000)}`);
      await sleep(50);
    }
  }
}

function idOf(flag: '-u' | '-g', name: string): number {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(n)) throw new MssError('POSTFIX_NOT_INSTALLED', `user/group "${name}" not found: is Postfix installed?`);
  return n;
}
