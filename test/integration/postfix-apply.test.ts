// scripts/postfix-apply.sh on a copy of a stock Debian 12 Postfix configuration (what the
// postfix package's postinst writes for an "Internet Site", docs/install.md step 7): the
// pieces land where they should, only loopback listeners are left to Postfix, a second run
// changes nothing, and `postfix check` accepts the result.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'postfix-apply.sh');

function apply(configDir: string, extra: string[] = []): { stdout: string; stderr: string } {
  // Not the machine's own mss-sidecar for the routing check (perimeter-*.test.ts runs the
  // repository's): the package test installs one in /usr/bin while the other suites run, and its
  // check of /etc/mss-sidecar failed this file's "nothing on stderr" then.
  const r = spawnSync('bash', [SCRIPT, '-c', configDir, ...extra], { encoding: 'utf8', env: { ...process.env, MSS_SIDECAR: 'true' } });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

function postconf(configDir: string, ...args: string[]): string {
  return spawnSync('postconf', ['-c', configDir, ...args], { encoding: 'utf8' }).stdout;
}

/**
 * /etc/postfix as Debian 12's postinst leaves it for an "Internet Site": master.cf.dist,
 * main.cf.debian + main.cf.tls and its postconf settings. Only the paths a test cannot
 * share with the machine move into `root`: queue, data, the mailname file.
 */
function stockDebian(root: string): string {
  const etc = path.join(root, 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.copyFileSync('/usr/share/postfix/master.cf.dist', path.join(etc, 'master.cf'));
  fs.writeFileSync(
    path.join(etc, 'main.cf'),
    fs.readFileSync('/usr/share/postfix/main.cf.debian', 'utf8') + fs.readFileSync('/usr/share/postfix/main.cf.tls', 'utf8'),
  );
  for (const d of ['queue', 'data']) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(path.join(root, 'mailname'), 'ch-exemple.fr\n');
  const set = spawnSync('postconf', [
    '-c',
    etc,
    '-e',
    'smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination',
    'myhostname=mx.ch-exemple.fr',
    'alias_maps=hash:/etc/aliases',
    'alias_database=hash:/etc/aliases',
    `myorigin=${path.join(root, 'mailname')}`,
    'mydestination=$myhostname, ch-exemple.fr, localhost',
    'relayhost=',
    'mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128',
    'mailbox_size_limit=0',
    'recipient_delimiter=+',
    'inet_interfaces=all',
    'inet_protocols=all',
    `queue_directory=${path.join(root, 'queue')}`,
    `data_directory=${path.join(root, 'data')}`,
  ]);
  assert.equal(set.status, 0, String(set.stderr));
  return etc;
}

/** Active inet services of master.cf, by name. */
const inetServices = (etc: string): string[] =>
  postconf(etc, '-M')
    .split('\n')
    .map((l) => l.split(/\s+/))
    .filter((f) => f[1] === 'inet')
    .map((f) => f[0] as string);

test('EX_3.1_5020 EX_LPS_0400 EX_LPS_1000: on a stock Debian Postfix, postfix-apply.sh leaves the public ports to the sidecar, idempotently, and postfix check accepts it', () => {
  const root = tmpDir('mss-postfix-apply-');
  const etc = stockDebian(root);
  assert.deepEqual(inetServices(etc), ['smtp'], "Debian's own public listener on port 25");
  const first = apply(etc);
  assert.equal(first.stderr, '', 'no public listener is left to warn about');
  const main1 = fs.readFileSync(path.join(etc, 'main.cf'), 'utf8');
  const master1 = fs.readFileSync(path.join(etc, 'master.cf'), 'utf8');

  // Nothing but the sidecar listens publicly: Postfix binds loopback, its smtp service is off.
  assert.equal(postconf(etc, '-h', 'inet_interfaces').trim(), 'loopback-only');
  assert.deepEqual(
    inetServices(etc).sort(),
    ['127.0.0.1:687'],
    'the inbound gate reaches Postfix through a unix socket, not a TCP port; the LPS service is below 1024',
  );
  assert.match(master1, /^#smtp\s+inet\s+n\s+-\s+y\s+-\s+-\s+smtpd$/m, 'commented out, not deleted');
  // The gates: in through public/mss-gate-in, out through the transport of default_transport, both unix sockets.
  assert.match(
    postconf(etc, '-M', 'mss-gate-in/unix'),
    /^mss-gate-in\s+unix\s+n\s+-\s+n\s+-\s+-\s+smtpd -o syslog_name=postfix\/mss-gate-in -o smtpd_authorized_xclient_hosts=127\.0\.0\.1/,
  );
  assert.equal(postconf(etc, '-h', 'default_transport').trim(), 'mss-gate-out:unix:/run/mss-sidecar/gate-out.sock');
  assert.match(postconf(etc, '-M', 'mss-gate-out/unix'), /lmtp -o syslog_name=postfix\/mss-gate-out -o lmtp_send_xforward_command=yes/);
  // The submission service behind the front: PROXY, STARTTLS with the six suites, SASL, the milter.
  assert.match(postconf(etc, '-h', 'mss_submission_milter'), /default_action=tempfail/);
  for (const [option, value] of [
    ['smtpd_upstream_proxy_protocol', 'haproxy'],
    ['smtpd_tls_security_level', 'encrypt'],
    ['tls_high_cipherlist', '$mss_submission_tls_ciphers'],
    ['smtpd_sasl_type', 'dovecot'],
    ['smtpd_milters', '$mss_submission_milter'],
    ['milter_mail_macros', '$mss_submission_milter_mail_macros'],
  ])
    assert.equal(postconf(etc, '-P', `127.0.0.1:687/inet/${option}`).trim(), `127.0.0.1:687/inet/${option} = ${value}`, option);
  assert.match(postconf(etc, '-h', 'mss_submission_tls_ciphers'), /^ECDHE-RSA-AES256-GCM-SHA384:/);
  // EX_GBM_4410: the size limit above the milter's; the milter on the submission service only.
  assert.equal(postconf(etc, '-h', 'message_size_limit').trim(), '10551296');
  assert.equal(postconf(etc, '-h', 'smtpd_milters').trim(), '', 'no global milter');
  assert.equal(postconf(etc, '-P', 'mss-gate-in/unix/smtpd_milters').trim(), '', 'mail from the inbound gate is not judged again');
  // Local submission (sendmail, pickup) goes through the same milter.
  assert.equal(postconf(etc, '-h', 'non_smtpd_milters').trim(), '$mss_submission_milter');

  // Second run: byte-for-byte the same files.
  assert.match(apply(etc).stdout, /keeping the existing 127\.0\.0\.1:687\/inet service/);
  assert.equal(fs.readFileSync(path.join(etc, 'main.cf'), 'utf8'), main1);
  assert.equal(fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'), master1);

  const check = spawnSync('postfix', ['-c', etc, 'check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.doesNotMatch(check.stderr, /warning/);
});

test('postfix-apply.sh turns off a public submission service the site had (the front owns 587), warns about a public listener of its own, and -n only prints (and does not say "applied")', () => {
  const instance = new PostfixInstance({
    dir: path.join(tmpDir(), 'pf'),
    myhostname: 'mx.ch.test',
    services: [
      'submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes',
      '192.0.2.10:2525 inet n - n - - smtpd',
    ],
  });
  instance.writeConfig();
  const etc = instance.configDir;
  const before = fs.readFileSync(path.join(etc, 'master.cf'), 'utf8');
  const dry = apply(etc, ['-n']);
  assert.match(dry.stdout, /postconf -c \S+ -M# submission\/inet/);
  assert.match(dry.stdout, /postconf -c \S+ -P 127\.0\.0\.1:687\/inet\/smtpd_milters=/);
  // A dry run says so last, and never that it applied anything (issue #15).
  assert.match(dry.stdout.trimEnd().split('\n').at(-1) ?? '', /^dry run: nothing was changed/);
  assert.doesNotMatch(dry.stdout, /^applied /m);
  assert.equal(fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'), before);
  assert.doesNotMatch(dry.stdout, /\bapplied\b/, '-n does not say it applied anything');
  const r = apply(etc);
  assert.match(r.stdout, /^applied \d+ main\.cf and \d+ master\.cf piece\(s\)/m);
  assert.equal(postconf(etc, '-M', 'submission/inet').trim(), '');
  assert.match(
    fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'),
    /^#submission\s+inet\s+n\s+-\s+y\s+-\s+-\s+smtpd\n#\s+-o smtpd_tls_security_level=encrypt/m,
    "the site's service and options are kept, commented out",
  );
  assert.match(r.stderr, /warning: these Postfix inet services may listen beyond loopback .*: 192\.0\.2\.10:2525/);
  // That smtpd has no milter: mail submitted there would skip the sending rules.
  assert.match(r.stderr, /warning: these Postfix smtpd services take mail without the submission milter.*: 192\.0\.2\.10:2525\/inet;/);
  assert.match(r.stdout.trimEnd().split('\n').at(-1) ?? '', /^applied /);
});

test("postfix-apply.sh closes the loopback doors of an earlier installation and keeps a site's own local-submission milter after ours, idempotently", () => {
  const instance = new PostfixInstance({
    dir: path.join(tmpDir(), 'pf'),
    myhostname: 'mx.ch.test',
    // What the earlier pieces created: the inbound gate's TCP door on loopback, the LPS
    // submission service and the milter on ports above 1024 (0.2.0).
    services: [
      '127.0.0.1:10025 inet n - n - - smtpd\n  -o syslog_name=postfix/mss-gate-in\n  -o smtpd_authorized_xclient_hosts=127.0.0.1',
      '127.0.0.1:10587 inet n - n - - smtpd\n  -o syslog_name=postfix/submission\n  -o smtpd_upstream_proxy_protocol=haproxy\n  -o smtpd_milters=$mss_submission_milter',
    ],
    main: {
      non_smtpd_milters: 'inet:localhost:8891',
      default_transport: 'mss-gate-out:inet:127.0.0.1:10026',
      mss_submission_milter: '{ inet:127.0.0.1:10028, protocol=6, default_action=tempfail }',
    },
  });
  instance.writeConfig();
  const etc = instance.configDir;
  apply(etc);
  assert.equal(postconf(etc, '-M', '127.0.0.1:10025/inet').trim(), '', 'the old TCP door is off');
  assert.match(fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'), /^#127\.0\.0\.1:10025\s+inet/m, 'commented out, not deleted');
  // EX_LPS_1000: the LPS service moves below 1024, the old one is off with its options.
  assert.equal(postconf(etc, '-M', '127.0.0.1:10587/inet').trim(), '', 'the old port above 1024 is off');
  assert.match(
    fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'),
    /^#127\.0\.0\.1:10587\s+inet[^\n]*\n#\s+-o syslog_name=postfix\/submission/m,
    'commented out with its options',
  );
  assert.deepEqual(inetServices(etc), ['127.0.0.1:687']);
  // EX_GBM_4420: the milter endpoint moves to the unix socket in Postfix's spool.
  assert.match(postconf(etc, '-h', 'mss_submission_milter'), /^\{ unix:mss-sidecar\/milter\.sock, /);
  assert.equal(postconf(etc, '-h', 'default_transport').trim(), 'mss-gate-out:unix:/run/mss-sidecar/gate-out.sock');
  assert.equal(postconf(etc, '-h', 'non_smtpd_milters').trim(), '$mss_submission_milter, inet:localhost:8891', "ours first, the site's DKIM milter kept");
  const main = fs.readFileSync(path.join(etc, 'main.cf'), 'utf8');
  assert.match(apply(etc).stdout, /keeping non_smtpd_milters: \$mss_submission_milter is already in it/);
  assert.equal(fs.readFileSync(path.join(etc, 'main.cf'), 'utf8'), main);
});
