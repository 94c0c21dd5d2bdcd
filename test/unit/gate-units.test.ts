// The gates' small parts alone: dot-stuffing, the sender/recipient rules, MX resolution
// against the loopback DNS responder, the peer check without CRLs, the size floor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { DotStuffer } from '../../src/gate/dot-stuff.js';
import { checkRecipient, checkSender } from '../../src/gate/inbound/checks.js';
import { MxResolver } from '../../src/gate/outbound/mx.js';
import { checkPeer } from '../../src/gate/peer.js';
import { createLogger } from '../../src/log.js';
import { certInfo } from '../../src/pki/certificate.js';
import { formatDn } from '../../src/pki/dn.js';
import { RevocationHolder } from '../../src/pki/revocation-holder.js';
import { loadRegistry } from '../../src/registry/load.js';
import { DnsResponder } from '../../sandbox/dns-responder.js';
import { sandboxRegistryYaml } from '../../sandbox/gate-registry.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

const log = createLogger({ level: 'silent', pretty: false });

function stuff(chunks: string[]): string {
  const s = new DotStuffer();
  return chunks.map((c) => s.push(Buffer.from(c)).toString()).join('') + s.end().toString();
}

test('RFC 5321 §4.5.2: dots are doubled at the start of every line, after CRLF or a bare LF, across chunk boundaries', () => {
  assert.equal(stuff(['.a\r\nb\r\n']), '..a\r\nb\r\n.\r\n');
  assert.equal(stuff(['x\r\n', '.y\r\n']), 'x\r\n..y\r\n.\r\n');
  assert.equal(stuff(['x\n.\r\nMAIL FROM:<a@b>\r\n']), 'x\n..\r\nMAIL FROM:<a@b>\r\n.\r\n');
  assert.equal(stuff(['no final newline']), 'no final newline\r\n.\r\n');
  assert.equal(stuff(['x\r', '\n']), 'x\r\n.\r\n');
  assert.equal(stuff([]), '.\r\n');
});

async function fixtures() {
  const pki = await testPki();
  const index = verifyWhitelist(Buffer.from(signedList(pki)), { trust: trustOf(pki), signer: { OU: ['318751275100020'] }, maxBytes: 1_000_000 }).index;
  const a = pki.operators.find((o) => o.id === 'A');
  assert.ok(a);
  const cert = certInfo(fs.readFileSync(a.cert));
  const peer = { cert, dn: formatDn(cert.subject), protocol: 'TLSv1.3', cipher: 'x' };
  return { pki, index, peer, a };
}

test('EX_3.1_5030 steps 5-6: sender rules — null sender, listed domain of the DN, domain of another DN, unlisted, apicrypt and dgs are listed domains like others', async () => {
  const { index, peer } = await fixtures();
  assert.equal(checkSender('', peer, index), undefined);
  assert.equal(checkSender('alice@ch-sandbox-a.mssante.fr', peer, index), undefined);
  assert.equal(checkSender('alice@GHT-SANDBOX.mssante.fr', peer, index), undefined, 'a domain shared by two DNs (EX_LBL_5010)');
  assert.equal(checkSender('x@clinique-sandbox-b.mssante.fr', peer, index)?.reason, 'GATE_SENDER_DN_MISMATCH');
  assert.equal(checkSender('x@example.org', peer, index)?.reason, 'GATE_SENDER_DOMAIN_NOT_LISTED');
  assert.equal(checkSender('x@interop-mssante.apicrypt.org', peer, index)?.reason, 'GATE_SENDER_DN_MISMATCH', 'listed, but for the apicrypt DN');
  assert.equal(checkSender('postmaster', peer, index)?.reason, 'GATE_SENDER_NO_DOMAIN');
});

test('RE_GBM_4420 EX_GBM_4010: recipient rules — ours only, existing, not suspended, test mailboxes with test senders', async () => {
  const dir = tmpDir();
  const domains = ['clinique-sandbox-b.mssante.fr'];
  fs.writeFileSync(
    `${dir}/r.yaml`,
    sandboxRegistryYaml(domains, { person: { first: 'bruno', last: 'petit', idNat: '810000000202' }, structureId: '331234567800019' }),
  );
  const registry = loadRegistry(`${dir}/r.yaml`, { domains, finessRegistered: true });
  const d = domains[0];
  assert.equal(checkRecipient(`bruno.petit@${d}`, 'a@x.mssante.fr', registry), undefined);
  assert.equal(checkRecipient(`ancien.service@${d}`, 'a@x.mssante.fr', registry)?.enhanced, '5.2.1');
  assert.equal(checkRecipient(`nobody@${d}`, 'a@x.mssante.fr', registry)?.enhanced, '5.1.1');
  assert.equal(checkRecipient('x@other.mssante.fr', 'a@x.mssante.fr', registry)?.reason, 'GATE_RCPT_NOT_OURS');
  assert.equal(checkRecipient(`test.recette@${d}`, 'a@x.mssante.fr', registry)?.reason, 'GATE_RCPT_TEST_ONLY');
  assert.equal(checkRecipient(`test.recette@${d}`, 'TEST.lab@x.mssante.fr', registry), undefined);
  assert.equal(checkRecipient(`test.recette@${d}`, '', registry), undefined, 'notifications reach test mailboxes');
});

test('RFC 5321 §5.1 EX_3.2_5040: MX by preference, implicit MX, null MX, unknown domain, unreachable resolver', async () => {
  const dns = new DnsResponder({
    mx: {
      'two.test': [
        { priority: 20, exchange: 'b.two.test' },
        { priority: 10, exchange: 'a.two.test' },
      ],
      'null.test': [{ priority: 0, exchange: '.' }],
    },
    a: { 'a.two.test': ['127.0.0.20'], 'b.two.test': ['127.0.0.21'], 'implicit.test': ['127.0.0.22'] },
  });
  await dns.start();
  try {
    const mx = new MxResolver({ servers: [dns.address], timeoutMs: 1000 });
    const two = await mx.resolve('two.test');
    assert.deepEqual(two.ok && two.targets.map((t) => t.address), ['127.0.0.20', '127.0.0.21']);
    const implicit = await mx.resolve('implicit.test');
    assert.deepEqual(implicit.ok && implicit.targets.map((t) => t.host), ['implicit.test']);
    const nul = await mx.resolve('null.test');
    assert.equal(!nul.ok && nul.refusal.enhanced, '5.1.10');
    const none = await mx.resolve('nowhere.test');
    assert.equal(!none.ok && none.refusal.code, 550);
    const down = await new MxResolver({ servers: ['127.0.0.1:1'], timeoutMs: 300 }).resolve('two.test');
    assert.equal(!down.ok && down.refusal.code, 451);
  } finally {
    await dns.stop();
  }
});

test('EX_OPE_5050: without a current CRL the peer is refused with a temporary 421 4.7.0 (requireCurrent), or accepted with a warning when relaxed', async () => {
  const { pki, index, a } = await fixtures();
  const trust = trustOf(pki);
  const leaf = fs.readFileSync(a.cert);
  const der = certInfo(leaf).der;
  const strict = await RevocationHolder.open({ trust, dir: tmpDir(), requireCurrent: true, log, pollMs: 0 });
  const refused = checkPeer(der, { protocol: 'TLSv1.3', cipher: 'x' }, { trust, revocation: strict, index, log }, 'sending');
  strict.close();
  assert.equal(!refused.ok && refused.refusal.code, 421);
  assert.equal(!refused.ok && refused.refusal.reason, 'GATE_PEER_REVOCATION_UNKNOWN');
  const relaxed = await RevocationHolder.open({ trust, dir: tmpDir(), requireCurrent: false, log, pollMs: 0 });
  const accepted = checkPeer(der, { protocol: 'TLSv1.3', cipher: 'x' }, { trust, revocation: relaxed, index, log }, 'sending');
  relaxed.close();
  assert.equal(accepted.ok, true);
});

test('EX_OPE_5050: crl.requireCurrent defaults to true (a peer whose issuer has no current CRL is refused); false must be written', () => {
  const base = { operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' }, trust: { dir: '/t' } };
  assert.equal(configSchema.parse(base).crl.requireCurrent, true);
  assert.equal(configSchema.parse({ ...base, crl: {} }).crl.requireCurrent, true);
  assert.equal(configSchema.parse({ ...base, crl: { requireCurrent: false } }).crl.requireCurrent, false);
});

test('EX_GBM_4410: a gate limit below 10 Mo is a configuration error; the defaults are above it', () => {
  const base = { operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' }, trust: { dir: '/t' } };
  const ok = configSchema.parse(base);
  assert.ok(ok.gates.in.maxMessageBytes >= 10 * 1024 * 1024);
  assert.ok(ok.gates.out.maxMessageBytes >= 10 * 1024 * 1024);
  assert.throws(() => configSchema.parse({ ...base, gates: { in: { maxMessageBytes: 5_000_000 } } }), /EX_GBM_4410/);
});
