// The shipped pieces and defaults that close the perimeter agree with each other (issue #12):
// a renamed socket, group or macro on one side only would reopen a door or break a service
// without an error anywhere. The bypass suite (test/integration/perimeter-*.test.ts) tries
// the doors on a running installation.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { DEFAULT_GATE_IN_POSTFIX_SOCKET, DEFAULT_GATE_OUT_SOCKET } from '../../src/gate/config.js';
import { GATE_LISTENER_SERVICE, GATE_LISTENER_SOCKET, SUBMISSION_SERVICE } from '../../sandbox/mta/postfix-pieces.js';
import { postfixMainDefinitions, postfixServiceEntry, postfixServiceOptions } from '../../sandbox/mta/shipped-config.js';
import { LPS_SUBMISSION_DAEMON } from '../../src/submission/rules/local-submission.js';
import { REPO_ROOT } from '../helpers/cli.js';

const config = configSchema.parse({
  operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' },
  trust: { dir: '/t' },
});

/** The values of `key` in the daemon's systemd unit. */
const unitValues = (key: string): string[] =>
  [...fs.readFileSync(path.join(REPO_ROOT, 'systemd', 'mss-sidecar.service'), 'utf8').matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] as string);

test("EX_3.2_5040 EX_3.2_5060: the outbound gate's LMTP is a unix socket only Postfix's lmtp client opens, where default_transport points, in the daemon's runtime directory", () => {
  assert.deepEqual(config.gates.out.listen.endpoint, { kind: 'unix', path: DEFAULT_GATE_OUT_SOCKET });
  assert.equal(config.gates.out.listen.mode, 0o660);
  assert.equal(config.gates.out.listen.group, 'postfix', "Postfix's daemons run as postfix:postfix");
  const main = postfixMainDefinitions();
  assert.equal(main.find((d) => d.name === 'default_transport')?.value, `mss-gate-out:unix:${DEFAULT_GATE_OUT_SOCKET}`);
  assert.match(postfixServiceEntry('mss-gate-out/unix') ?? '', /^mss-gate-out\s+unix\s+-\s+-\s+n\s/, 'not chrooted: the socket is outside the queue directory');
  assert.deepEqual(unitValues('RuntimeDirectory'), [path.basename(path.dirname(DEFAULT_GATE_OUT_SOCKET))]);
  assert.equal(path.dirname(path.dirname(DEFAULT_GATE_OUT_SOCKET)), '/run');
  assert.deepEqual(unitValues('SupplementaryGroups').join(' ').split(/\s+/).sort(), ['postdrop', 'postfix']);
});

test("EX_3.1_5020 EX_3.1_5030: the inbound gate reaches Postfix's mss-gate-in smtpd through its socket in public/ (mode 0710 group postdrop), XCLIENT allowed there, and no TCP listener is left", () => {
  assert.deepEqual(config.gates.in.postfix.endpoint, { kind: 'unix', path: DEFAULT_GATE_IN_POSTFIX_SOCKET });
  assert.equal(DEFAULT_GATE_IN_POSTFIX_SOCKET, `/var/spool/postfix/${GATE_LISTENER_SOCKET}`);
  // private column `n`: public/, which the sidecar's group postdrop may traverse; private/ is Postfix's alone.
  assert.match(postfixServiceEntry(GATE_LISTENER_SERVICE) ?? '', /^mss-gate-in\s+unix\s+n\s+-\s+n\s+-\s+-\s+smtpd(\s|$)/);
  assert.ok(postfixServiceOptions(GATE_LISTENER_SERVICE).includes('-o smtpd_authorized_xclient_hosts=127.0.0.1'));
  assert.equal(postfixServiceEntry('127.0.0.1:10025/inet'), undefined);
});

test('EX_LPS_0900 (local submission): sendmail/pickup mail goes through the same milter, and the milter tells the LPS service (a login required) from local submission by {daemon_name}', () => {
  const main = postfixMainDefinitions();
  assert.deepEqual(
    main.filter((d) => d.name === 'non_smtpd_milters').map((d) => d.value),
    ['$mss_submission_milter'],
  );
  assert.match(
    fs.readFileSync(path.join(REPO_ROOT, 'postfix', 'main.cf.d', '30-local-submission.cf'), 'utf8'),
    /^non_smtpd_milters \+= \$mss_submission_milter$/m,
    "prepended: a site's own milters are kept",
  );
  assert.ok(postfixServiceOptions(SUBMISSION_SERVICE).includes(`-o milter_macro_daemon_name=${LPS_SUBMISSION_DAEMON}`));
  assert.deepEqual(config.submission.localSenders, [], 'no local sender unless configured');
});

test("EX_LPS_0600 EX_LPS_1000: the Dovecot pieces put the Lua passdb in its own early piece and close Debian's imap, imaps and submission listeners", () => {
  const passdb = fs.readFileSync(path.join(REPO_ROOT, 'dovecot', 'conf.d', '05-mss-lps-passdb.conf'), 'utf8');
  assert.match(passdb, /^passdb \{\n\s+driver = lua\n/m);
  assert.ok('05-mss-lps-passdb.conf' < '10-auth.conf', "conf.d/*.conf reads it before Debian's 10-auth.conf (PAM)");
  const lps = fs.readFileSync(path.join(REPO_ROOT, 'dovecot', 'conf.d', '90-mss-lps.conf'), 'utf8');
  assert.doesNotMatch(lps, /^passdb/m, "no second passdb after the site's");
  for (const listener of ['imap', 'imaps', 'submission', 'submissions'])
    assert.match(lps, new RegExp(`inet_listener ${listener} \\{\\n\\s+port = 0\\n`), listener);
  const lua = fs.readFileSync(path.join(REPO_ROOT, 'dovecot', 'mss-lps-auth.lua'), 'utf8');
  assert.match(lua, /\/v1\/password-login/);
  assert.doesNotMatch(
    lua.slice(lua.indexOf('local function password_login'), lua.indexOf('function auth_password_verify')),
    /"token", token/,
    'the password itself is never sent',
  );
});
