// TM5.1P: `mss-sidecar autoconfig check` against a loopback DNS server (EX_LPS_0300).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { checkDomain, srvResolver, type EntryPoints } from '../../src/autoconfig/srv-check.js';
import { runCliAsync as runCli } from '../helpers/cli-async.js';
import { DnsResponder } from '../helpers/dns-responder.js';
import { tmpDir } from '../helpers/tmp.js';

const EP: EntryPoints = {
  imap: { psc: 'imap.ch-exemple.fr', authCli: 'imap-app.ch-exemple.fr' },
  submission: { psc: 'smtp.ch-exemple.fr', authCli: 'smtp-app.ch-exemple.fr' },
  weight: 100,
};
const GOOD = 'ch-exemple.mssante.fr';
const BAD = 'ch-autre.mssante.fr';
const dns = new DnsResponder();
const dir = tmpDir();

before(async () => {
  await dns.start();
  dns
    .set(`_submission._tcp.${GOOD}`, [
      { priority: 10, weight: 100, port: 587, target: 'smtp.ch-exemple.fr' },
      { priority: 20, weight: 100, port: 587, target: 'smtp-app.ch-exemple.fr' },
    ])
    .set(`_imap._tcp.${GOOD}`, [
      { priority: 20, weight: 100, port: 143, target: 'imap-app.ch-exemple.fr' },
      { priority: 10, weight: 100, port: 143, target: 'imap.ch-exemple.fr' },
    ])
    .set(`_submission._tcp.${BAD}`, [
      { priority: 10, weight: 100, port: 25, target: 'smtp.ch-exemple.fr' },
      { priority: 30, weight: 50, port: 587, target: 'old.ch-exemple.fr' },
    ]);
});
after(() => dns.stop());

const resolver = () => srvResolver([`127.0.0.1:${dns.port}`], 1000);

test('EX_LPS_0300: a domain with the four SRV records (priority 10 PSC, 20 AUTH-CLI, equal weights, 587/143) passes', async () => {
  const r = await checkDomain(GOOD, EP, resolver());
  assert.deepEqual(r.problems, []);
  assert.equal(r.ok, true);
  assert.deepEqual(r.zoneLines, [
    '_submission._tcp.ch-exemple.mssante.fr. 3600 IN SRV 10 100 587 smtp.ch-exemple.fr.',
    '_submission._tcp.ch-exemple.mssante.fr. 3600 IN SRV 20 100 587 smtp-app.ch-exemple.fr.',
    '_imap._tcp.ch-exemple.mssante.fr. 3600 IN SRV 10 100 143 imap.ch-exemple.fr.',
    '_imap._tcp.ch-exemple.mssante.fr. 3600 IN SRV 20 100 143 imap-app.ch-exemple.fr.',
  ]);
});

test('EX_LPS_0300: missing records, a wrong port, another priority and unequal weights are each reported', async () => {
  const r = await checkDomain(BAD, EP, resolver());
  assert.equal(r.ok, false);
  assert.equal(r.temporary, false);
  const kinds = r.problems.map((p) => p.kind).sort();
  assert.deepEqual(kinds, ['missing', 'missing', 'missing', 'unequal-weights', 'unexpected', 'wrong-port']);
  assert.ok(r.problems.some((p) => p.kind === 'missing' && p.message === '_imap._tcp.ch-autre.mssante.fr SRV 10 100 143 imap.ch-exemple.fr'));
  const weight = await checkDomain(GOOD, { ...EP, weight: 5 }, resolver());
  assert.equal(weight.problems.filter((p) => p.kind === 'wrong-weight').length, 4);
});

test('EX_LPS_0300: a DNS server that fails is a temporary problem, not a verdict on the records', async () => {
  dns.mode = 'servfail';
  try {
    const r = await checkDomain(GOOD, EP, resolver());
    assert.equal(r.temporary, true);
    assert.deepEqual([...new Set(r.problems.map((p) => p.kind))], ['lookup-failed']);
  } finally {
    dns.mode = 'answer';
  }
});

test('EX_LPS_0300: `autoconfig check` reads domains and entry points from the configuration, prints the zone lines and exits 1 on problems', async () => {
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    config,
    [
      'operator:',
      '  name: CH Exemple',
      `  domains: [${GOOD}, ${BAD}]`,
      '  structureId: "1130000000"',
      '  certificate: operator.crt',
      '  key: operator.key',
      'trust:',
      '  dir: trust',
      'auth:',
      '  psc: {audience: ch-exemple-mss}',
      '  entryPoints:',
      '    imap: {psc: imap.ch-exemple.fr, authCli: imap-app.ch-exemple.fr}',
      '    submission: {psc: smtp.ch-exemple.fr, authCli: smtp-app.ch-exemple.fr}',
      `    resolvers: ["127.0.0.1:${dns.port}"]`,
      '',
    ].join('\n'),
  );
  const r = await runCli(['--config', config, 'autoconfig', 'check']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /ch-exemple\.mssante\.fr: the four SRV records are published/);
  assert.match(r.stdout, /ch-autre\.mssante\.fr: 6 problems/);
  assert.match(r.stdout, /wrong-port: _submission\._tcp\.ch-autre\.mssante\.fr SRV 10 100 25 smtp\.ch-exemple\.fr: port 25, expected 587/);
  assert.match(r.stdout, /^ {2}missing: _imap\._tcp\.ch-autre\.mssante\.fr SRV 10 100 143 imap\.ch-exemple\.fr$/m);
  assert.doesNotMatch(r.stdout, /missing: missing/, 'the kind is said once');
  assert.match(r.stdout, /^ {4}_imap\._tcp\.ch-autre\.mssante\.fr\. 3600 IN SRV 20 100 143 imap-app\.ch-exemple\.fr\.$/m);

  const good = await runCli(['--config', config, 'autoconfig', 'check', GOOD, '--json']);
  assert.equal(good.status, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).ok, true);
});

test('EX_LPS_0300: `autoconfig check` works without a configuration when every host is given, and says which are missing otherwise', async () => {
  const args = [
    'autoconfig',
    'check',
    GOOD,
    '--imap-psc',
    'imap.ch-exemple.fr',
    '--imap-authcli',
    'imap-app.ch-exemple.fr',
    '--submission-psc',
    'smtp.ch-exemple.fr',
    '--submission-authcli',
    'smtp-app.ch-exemple.fr',
    '--resolver',
    `127.0.0.1:${dns.port}`,
    '--dns-timeout',
    '200',
  ];
  const ok = await runCli(['--config', path.join(dir, 'absent.yaml'), ...args]);
  assert.equal(ok.status, 0, ok.stderr);
  const usage = await runCli(['--config', path.join(dir, 'absent.yaml'), 'autoconfig', 'check', GOOD, '--imap-psc', 'x.fr']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /CONFIG_NOT_FOUND/);
  dns.mode = 'silent';
  try {
    const down = await runCli(['--config', path.join(dir, 'absent.yaml'), ...args]);
    assert.equal(down.status, 3, down.stdout + down.stderr);
    assert.match(down.stdout, /lookup-failed/);
  } finally {
    dns.mode = 'answer';
  }
});

test('EX_LPS_0300: the sandbox DNS publishes the four SRV records of each simulated operator, so `autoconfig check` passes there', async () => {
  const { zoneFor } = await import('../../sandbox/operator-world.js');
  const { sandboxEntryPoints } = await import('../../sandbox/operator-node.js');
  const { DnsResponder: SandboxDns } = await import('../../sandbox/dns-responder.js');
  const { generateTestPki } = await import('../../sandbox/pki.js');
  const pki = await generateTestPki(path.join(dir, 'pki'), { authCli: [] });
  const sandboxDns = new SandboxDns(zoneFor(pki.operators));
  await sandboxDns.start();
  try {
    for (const op of pki.operators) {
      const ep = sandboxEntryPoints(op);
      const args = [
        'autoconfig',
        'check',
        ...op.domains,
        '--imap-psc',
        ep.imap.psc,
        '--imap-authcli',
        ep.imap.authCli,
        '--submission-psc',
        ep.submission.psc,
        '--submission-authcli',
        ep.submission.authCli,
        '--resolver',
        sandboxDns.address,
      ];
      const r = await runCli(['--config', path.join(dir, 'absent.yaml'), ...args]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      for (const d of op.domains) assert.match(r.stdout, new RegExp(`${d.replace(/\./g, '\\.')}: the four SRV records are published`));
    }
  } finally {
    await sandboxDns.stop();
  }
});
