// scripts/postfix-apply.sh against a scratch Postfix configuration (postconf -c): the
// pieces land where they should, a second run changes nothing, a site's own submission
// service is kept, and `postfix check` accepts the result.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PostfixInstance } from '../../src/mta/postfix-instance.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'postfix-apply.sh');

function apply(configDir: string, extra: string[] = []): string {
  const r = spawnSync('bash', [SCRIPT, '-c', configDir, ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function postconf(configDir: string, ...args: string[]): string {
  return spawnSync('postconf', ['-c', configDir, ...args], { encoding: 'utf8' }).stdout;
}

test('postfix-apply.sh adds the submission milter pieces idempotently and postfix check accepts them', () => {
  const instance = new PostfixInstance({ dir: path.join(tmpDir(), 'pf'), myhostname: 'mx.ch.test', services: ['127.0.0.1:2525 inet n - n - - smtpd'] });
  instance.writeConfig();
  const etc = instance.configDir;
  apply(etc);
  const main1 = fs.readFileSync(path.join(etc, 'main.cf'), 'utf8');
  const master1 = fs.readFileSync(path.join(etc, 'master.cf'), 'utf8');
  assert.match(postconf(etc, '-h', 'mss_submission_milter'), /default_action=tempfail/);
  assert.match(postconf(etc, '-P', 'submission/inet/smtpd_milters'), /^submission\/inet\/smtpd_milters = \$mss_submission_milter$/m);
  assert.match(postconf(etc, '-P', 'submission/inet/milter_mail_macros'), /\$mss_submission_milter_mail_macros/);
  assert.equal(postconf(etc, '-h', 'smtpd_milters').trim(), '', 'port 25 and other services keep no milter');
  // EX_LPS_0400 EX_LPS_0200: STARTTLS required with the six suites; EX_GBM_4410: the size limit above the milter's.
  assert.match(postconf(etc, '-P', 'submission/inet/smtpd_tls_security_level'), /= encrypt$/m);
  assert.match(postconf(etc, '-h', 'mss_submission_tls_ciphers'), /^ECDHE-RSA-AES256-GCM-SHA384:/);
  assert.equal(postconf(etc, '-h', 'message_size_limit').trim(), '10551296');
  assert.equal(postconf(etc, '-P', '127.0.0.1:2525/inet/smtpd_milters').trim(), '');

  // Second run: byte-for-byte the same files.
  assert.match(apply(etc), /keeping the existing submission\/inet service/);
  assert.equal(fs.readFileSync(path.join(etc, 'main.cf'), 'utf8'), main1);
  assert.equal(fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'), master1);

  const check = spawnSync('postfix', ['-c', etc, 'check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.doesNotMatch(check.stderr, /warning/);
});

test('postfix-apply.sh keeps a submission service the site already has, and -n only prints', () => {
  const instance = new PostfixInstance({
    dir: path.join(tmpDir(), 'pf'),
    myhostname: 'mx.ch.test',
    services: ['submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes'],
  });
  instance.writeConfig();
  const etc = instance.configDir;
  const before = fs.readFileSync(path.join(etc, 'master.cf'), 'utf8');
  const dry = apply(etc, ['-n']);
  assert.match(dry, /postconf -c \S+ -P submission\/inet\/smtpd_milters=/);
  assert.equal(fs.readFileSync(path.join(etc, 'master.cf'), 'utf8'), before);
  apply(etc);
  const entry = postconf(etc, '-M', 'submission/inet');
  assert.match(entry, /^submission\s+inet\s+n\s+-\s+y\s/);
  // The site's options stay first; ours follow.
  assert.match(entry, /smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_tls_chain_files=\$mss_submission_tls_chain_files .* -o smtpd_milters=\$mss_submission_milter /);
});
