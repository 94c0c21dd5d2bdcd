// Dovecot as a Debian 12 server runs it once docs/install.md step 8 is done, for the bypass
// suite: the configuration the packages install (/usr/share/dovecot: dovecot.conf, conf.d/
// with 10-auth.conf's PAM passdb, the protocols of dovecot-imapd, -lmtpd, -submissiond and
// their public listeners), then exactly the install steps — the passdb piece linked into
// conf.d, 90-mss-lps.conf included last from dovecot.conf, ssl_cert/ssl_key/ssl_dh in
// local.conf — and a site's own password database, as on any existing mail server. Only what
// a test cannot share with the machine moves under `dir` (base_dir, state_dir, the log, the
// mail store) and the site-specific values of the pieces are replaced (script directory,
// checker URL, loopback port, Postfix's socket).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DOVECOT_LPS_PIECE, DOVECOT_PASSDB_PIECE, dovecotLpsConfig, dovecotPassdbConfig } from './shipped-config.js';

/** Where Debian's dovecot-core keeps the configuration its postinst installs into /etc/dovecot. */
export const DEBIAN_DOVECOT_DEFAULTS = '/usr/share/dovecot';

export interface DebianDovecotOptions {
  /** Instance root: etc/, run/, state/, mail/, dovecot.log. */
  dir: string;
  /** Holds mss-lps-auth.lua, readable by Dovecot's auth processes. */
  scriptDir: string;
  checkerUrl: string;
  /** The LPS IMAP listener behind the front (shipped 243). */
  lpsImapPort: number;
  /** Postfix's SASL socket (shipped /var/spool/postfix/private/auth). */
  postfixSocket: string;
  tls: { certFile: string; keyFile: string; dhFile: string };
  /** The site's own password database (passwd-file): address → password. */
  sitePasswords?: Record<string, string>;
  /** Tests: no delay after a refused login (auth_failure_delay). */
  fastFailures?: boolean;
  /**
   * `documented` (docs/install.md): the passdb piece linked into conf.d, before PAM.
   * `after-site`: included last, after the site's passdbs — the order before the perimeter
   * fix, kept to measure what it cost.
   */
  passdbOrder?: 'documented' | 'after-site';
  /** Appended to dovecot.conf after the pieces (e.g. an !include of dovecot/conf.d/91-mss-mail-log.conf). */
  extraConfig?: string;
}

export interface DebianDovecot {
  configFile: string;
  /** Dovecot's LMTP socket (Debian's `lmtp` unix listener in base_dir), for virtual_transport. */
  lmtpSocket: string;
  mailDir: string;
}

/** Dovecot's default LMTP socket (base_dir/lmtp) of the instance under `dir`. */
export function debianDovecotLmtpSocket(dir: string): string {
  return path.join(dir, 'run', 'lmtp');
}

export function writeDebianDovecot(o: DebianDovecotOptions): DebianDovecot {
  const etc = path.join(o.dir, 'etc');
  const run = path.dirname(debianDovecotLmtpSocket(o.dir));
  const mailDir = path.join(o.dir, 'mail');
  for (const d of [path.join(etc, 'conf.d'), run, path.join(o.dir, 'state'), mailDir]) fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(o.dir, 0o755);
  // Mail is written as the `mail` user (the site's userdb below).
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'mail'], { encoding: 'utf8' }).stdout.trim());
  fs.chownSync(mailDir, id('-u'), id('-g'));
  // What the packages install: dovecot.conf and conf.d/ as Debian ships them.
  fs.copyFileSync(path.join(DEBIAN_DOVECOT_DEFAULTS, 'dovecot.conf'), path.join(etc, 'dovecot.conf'));
  for (const f of fs.readdirSync(path.join(DEBIAN_DOVECOT_DEFAULTS, 'conf.d')))
    fs.copyFileSync(path.join(DEBIAN_DOVECOT_DEFAULTS, 'conf.d', f), path.join(etc, 'conf.d', f));
  // Debian's postinst makes a self-signed /etc/dovecot/private/dovecot.pem, which 10-ssl.conf
  // reads at start (local.conf overrides it below); this instance points it at its own.
  const ssl = path.join(etc, 'conf.d', '10-ssl.conf');
  fs.writeFileSync(
    ssl,
    fs
      .readFileSync(ssl, 'utf8')
      .replace('</etc/dovecot/private/dovecot.pem', `<${o.tls.certFile}`)
      .replace('</etc/dovecot/private/dovecot.key', `<${o.tls.keyFile}`),
  );

  // The site's own passwords, after 10-auth.conf's PAM as an administrator adds them.
  const users = path.join(etc, 'users');
  fs.writeFileSync(
    users,
    Object.entries(o.sitePasswords ?? {})
      .map(([user, password]) => `${user}:{PLAIN}${password}::::::\n`)
      .join(''),
    { mode: 0o644 },
  );
  fs.writeFileSync(
    path.join(etc, 'conf.d', '15-site-passwords.conf'),
    [
      '# The site: its own users and passwords (an intranet mailbox, the MSSanté mailboxes it served before).',
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN username_format=%u ${users}`,
      '}',
      "# Every address has its mail here, as the `mail` user; Debian's passwd userdb knows only system users.",
      'first_valid_uid = 8',
      'userdb {',
      '  driver = static',
      `  args = uid=mail gid=mail home=${mailDir}/%d/%n allow_all_users=yes`,
      '}',
      '',
    ].join('\n'),
  );

  // docs/install.md step 8.
  const passdb = dovecotPassdbConfig({ scriptDir: o.scriptDir });
  const lps = path.join(o.dir, DOVECOT_LPS_PIECE);
  fs.writeFileSync(lps, dovecotLpsConfig({ scriptDir: o.scriptDir, checkerUrl: o.checkerUrl, lpsImapPort: o.lpsImapPort, postfixSocket: o.postfixSocket }));
  const includes = [`!include ${lps}`];
  if ((o.passdbOrder ?? 'documented') === 'documented') fs.writeFileSync(path.join(etc, 'conf.d', DOVECOT_PASSDB_PIECE), passdb);
  else {
    fs.writeFileSync(path.join(o.dir, DOVECOT_PASSDB_PIECE), passdb);
    includes.push(`!include ${path.join(o.dir, DOVECOT_PASSDB_PIECE)}`);
  }
  if (o.extraConfig) includes.push(o.extraConfig);
  fs.appendFileSync(path.join(etc, 'dovecot.conf'), `${includes.join('\n')}\n`);
  fs.writeFileSync(
    path.join(etc, 'local.conf'),
    [
      `ssl_cert = <${o.tls.certFile}`,
      `ssl_key = <${o.tls.keyFile}`,
      `ssl_dh = <${o.tls.dhFile}`,
      "# This instance, beside the machine's own.",
      `base_dir = ${run}`,
      `state_dir = ${path.join(o.dir, 'state')}`,
      `log_path = ${path.join(o.dir, 'dovecot.log')}`,
      `instance_name = dovecot-debian-${path.basename(path.dirname(o.dir))}-${path.basename(o.dir)}`,
      `mail_location = maildir:${mailDir}/%d/%n`,
      ...(o.fastFailures ? ['auth_failure_delay = 0'] : []),
      '',
    ].join('\n'),
  );
  return { configFile: path.join(etc, 'dovecot.conf'), lmtpSocket: debianDovecotLmtpSocket(o.dir), mailDir };
}
