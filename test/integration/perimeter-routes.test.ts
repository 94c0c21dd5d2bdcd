// The routing check (issue #12 item 6, EX_3.2_5040, EX_3.2_5060) on a real Postfix
// configuration — the shipped pieces applied by scripts/postfix-apply.sh, then a site's own
// routing, read back by postconf and postmap as Postfix reads it: every way of sending a
// listed MSSanté domain around the outbound gate is reported, the documented set-ups are not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { PostfixConfig } from '../../src/perimeter/postfix-config.js';
import { checkRoutes, describeProblem } from '../../src/perimeter/route-check.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const OURS = 'ch-exemple.mssante.fr';
const LISTED = ['clinique.mssante.fr', 'autre.mssante.fr', 'interop-mssante.apicrypt.org', 'sub.relais.mssante.fr', OURS];
const GATE = { kind: 'unix' as const, path: '/run/mss-sidecar/gate-out.sock' };
let applied = '';

before(() => {
  // What docs/install.md step 7 leaves: Debian's master.cf with the pieces applied.
  const etc = path.join(tmpDir('mss-routes-'), 'etc');
  fs.mkdirSync(etc);
  fs.copyFileSync('/usr/share/postfix/master.cf.dist', path.join(etc, 'master.cf'));
  fs.writeFileSync(path.join(etc, 'main.cf'), '');
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'postfix-apply.sh'), '-c', etc], {
    encoding: 'utf8',
    env: { ...process.env, MSS_SIDECAR: 'true' },
  });
  assert.equal(r.status, 0, r.stderr);
  applied = etc;
});

/** A copy of the applied configuration with the site's own settings (and table files) added. */
function site(params: Record<string, string>, files: Record<string, string> = {}): PostfixConfig {
  const etc = path.join(tmpDir('mss-routes-site-'), 'etc');
  fs.cpSync(applied, etc, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(etc, name), text);
    // As a site does after editing a hash: table.
    if (params.transport_maps?.includes(`hash:ETC/${name}`)) assert.equal(spawnSync('postmap', ['-c', etc, `hash:${path.join(etc, name)}`]).status, 0);
  }
  const settings = Object.entries(params).map(([k, v]) => `${k} = ${v.replaceAll('ETC', etc)}`);
  if (settings.length > 0) assert.equal(spawnSync('postconf', ['-c', etc, '-e', ...settings]).status, 0);
  return new PostfixConfig(etc);
}

const check = (pf: PostfixConfig, senders: string[] = [`dr.martin@${OURS}`]) => checkRoutes(pf, { listed: LISTED, ours: [OURS], senders, gate: GATE });

test("EX_3.2_5040: with the shipped pieces alone, every listed domain not ours goes to the outbound gate's socket, for every sender and the null sender", () => {
  const r = check(site({}));
  assert.equal(r.domainsChecked, 4, 'our own domain is not checked');
  assert.equal(r.sendersChecked, 3, "<>, postmaster@ of our domain, the registry's mailbox");
  assert.deepEqual(r.problems, []);
  assert.equal(r.gate, 'unix:/run/mss-sidecar/gate-out.sock');
});

test('EX_3.2_5040 EX_3.2_5060: a site transport map (a domain, a parent .domain, a regexp on the address) sending listed domains elsewhere is reported, naming the transport and the setting', () => {
  const r = check(
    site(
      { transport_maps: 'hash:ETC/transport, regexp:ETC/transport.re' },
      {
        transport: 'clinique.mssante.fr smtp:[relay.example]:25\n.relais.mssante.fr relay:[10.0.0.9]\n',
        'transport.re': '/@autre\\.mssante\\.fr$/ smtp:[192.0.2.1]\n',
      },
    ),
  );
  assert.deepEqual(r.problems.map((p) => describeProblem(p, r.sendersChecked)).sort(), [
    'autre.mssante.fr: smtp:[192.0.2.1] (transport_maps) for every sender, not the outbound gate',
    'clinique.mssante.fr: smtp:[relay.example]:25 (transport_maps) for every sender, not the outbound gate',
    'sub.relais.mssante.fr: relay:[10.0.0.9] (transport_maps) for every sender, not the outbound gate',
  ]);
});

test("EX_3.2_5040: relay_domains (relay_transport), and the gate's own transport without the gate's socket as next hop, are reported", () => {
  const relay = check(site({ relay_domains: 'relais.mssante.fr' }));
  assert.deepEqual(
    relay.problems.map((p) => [p.domain, p.route.transport, p.route.via]),
    [['sub.relais.mssante.fr', 'relay', 'relay_domains (relay_transport)']],
  );
  const noHop = check(site({ transport_maps: 'inline:{ {autre.mssante.fr = mss-gate-out:} }' }));
  assert.deepEqual(
    noHop.problems.map((p) => `${p.domain} ${p.route.transport}:${p.route.nexthop}`),
    ['autre.mssante.fr mss-gate-out:autre.mssante.fr'],
  );
});

test('EX_3.2_5040: sender-dependent routing is judged per sender: the mixed set-up of docs/gates.md passes, a sender map sending our mailboxes to a relay is reported for them only', () => {
  // docs/gates.md: a Postfix that also serves non-MSSanté senders keeps its own default_transport.
  const documented = check(
    site({
      default_transport: 'smtp',
      sender_dependent_default_transport_maps: `inline:{ {@${OURS} = mss-gate-out:unix:/run/mss-sidecar/gate-out.sock}, {<> = mss-gate-out:unix:/run/mss-sidecar/gate-out.sock} }`,
    }),
  );
  assert.deepEqual(documented.problems, []);
  // The same without the null sender: the bounces Postfix returns to other operators would leave by smtp.
  const noBounces = check(
    site({ default_transport: 'smtp', sender_dependent_default_transport_maps: `inline:{ {@${OURS} = mss-gate-out:unix:/run/mss-sidecar/gate-out.sock} }` }),
  );
  assert.deepEqual([...new Set(noBounces.problems.map((p) => `${p.route.transport} ${p.route.via} ${p.senders.join(',')}`))], ['smtp default_transport ']);
  const oneSender = check(site({ sender_dependent_default_transport_maps: `inline:{ {dr.martin@${OURS} = smtp:[10.0.0.1]} }` }), [
    `dr.martin@${OURS}`,
    `secretariat@${OURS}`,
  ]);
  assert.equal(oneSender.problems.length, 4);
  assert.ok(
    oneSender.problems.every((p) => p.senderCount === 1 && p.senders[0] === `dr.martin@${OURS}` && p.route.via === 'sender_dependent_default_transport_maps'),
  );
  // The gate's transport without a next hop takes the relay host's: reported too.
  const relayhost = check(site({ default_transport: 'mss-gate-out', relayhost: '[relais.example]' }));
  assert.ok(relayhost.problems.length === 4 && relayhost.problems.every((p) => p.route.nexthop === '[relais.example]' && /relayhost/.test(p.route.via)));
});
