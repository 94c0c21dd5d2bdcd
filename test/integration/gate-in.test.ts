// The inbound gate of operator B in front of its real Postfix, driven by raw SMTP clients
// holding certificates of the test PKI: every step of §6.7.1.1 with its exact reply.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { generateRsaKey, issueCertificate } from '../../sandbox/cert-factory.js';
import { runCommand } from '../../src/util/run-command.js';
import { INTERMEDIATE_SUBJECT, operatorSubject, ROOT_SUBJECT } from '../../sandbox/pki.js';
import { EXTRA_SANDBOX_ENTRIES } from '../../sandbox/whitelist-data.js';
import { connectTls, send, type Identity } from '../helpers/gate-client.js';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { intermediateIssuer } from '../helpers/pki.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { spawnTracked, waitForOutput } from '../helpers/processes.js';
import { traceLines } from '../helpers/traces.js';

let world: TestWorld;
let host = '';
let port = 0;
let A: Identity;
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';
const dir = tmpDir('mss-gate-in-');

/** A certificate of the sandbox intermediate for a DN of the liste blanche without a sandbox operator. */
async function listedIdentity(name: string, dn: string): Promise<Identity> {
  const pki = world.pki;
  const parts = Object.fromEntries(dn.split(',').map((p) => p.split('=') as [string, string]));
  const cert = issueCertificate({
    subject: operatorSubject({ fqdn: parts.CN ?? '', structureId: parts.OU ?? '', organisation: parts.O ?? '', department: parts.ST ?? '' }),
    keyPair: await generateRsaKey(),
    issuer: intermediateIssuer(pki),
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  fs.writeFileSync(path.join(dir, `${name}.crt`), cert.certPem);
  fs.writeFileSync(path.join(dir, `${name}.key`), cert.keyPem, { mode: 0o600 });
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

before(async () => {
  world = await gateWorld({ mta: 'real', operators: ['B'] });
  const b = world.node('B').config.gates.in.listen;
  host = b.host;
  port = world.port;
  const a = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(a);
  A = { cert: a.cert, key: a.key };
});
after(async () => {
  await world?.stop();
});

async function refusedAfterTls(who: Identity | undefined): Promise<string> {
  const { c, afterTls } = await connectTls(host, port, who);
  assert.equal(afterTls.code, 554, `${afterTls.code} ${afterTls.text}`);
  assert.ok(c.isClosed || (await c.read()).code === 0, 'the session is interrupted (EX_OPE_5040)');
  return afterTls.text;
}

test('EX_3.1_5020: MAIL before STARTTLS gets 530 5.7.0, and SIZE of at least 10 Mo is announced (EX_GBM_4410)', async () => {
  const c = await SmtpClient.connect(port, host);
  const ehlo = await c.command('EHLO remote.test');
  const size = Number(/SIZE (\d+)/.exec(ehlo.text)?.[1]);
  assert.ok(size >= 10 * 1024 * 1024, `SIZE ${size}`);
  assert.match(ehlo.text, /STARTTLS/);
  const r = await c.command(`MAIL FROM:<${ALICE}>`);
  assert.equal(r.code, 530);
  assert.match(r.text, /^5\.7\.0 Must issue a STARTTLS command first/);
  await c.quit();
});

test('EX_3.1_5020: a client without certificate is refused after the handshake with 554 5.7.1', async () => {
  assert.match(await refusedAfterTls(undefined), /^5\.7\.1 No certificate presented by the sending connector/);
});

test('EX_3.1_5030 step 4 EX_OPE_5020: a valid IGC-Santé certificate whose DN is not in the liste blanche is refused, naming the DN', async () => {
  const text = await refusedAfterTls({ cert: world.pki.rogue.cert, key: world.pki.rogue.key });
  assert.match(text, /^5\.7\.1 Certificate DN CN=mss\.rogue\.sandbox\.invalid,.* is not in the liste blanche MSSante/);
});

test('EX_OPE_5050: a revoked certificate is refused', async () => {
  assert.match(
    await refusedAfterTls({ cert: world.pki.revoked.cert, key: world.pki.revoked.key }),
    /^5\.7\.1 Certificate CN=mss\.revoked\.sandbox\.invalid.* is revoked/,
  );
});

test('EX_OPE_5040: an expired certificate is refused', async () => {
  assert.match(
    await refusedAfterTls({ cert: world.pki.expired.cert, key: world.pki.expired.key }),
    /^5\.7\.1 Certificate CN=mss\.expired\.sandbox\.invalid.* is not valid now: .*expired/,
  );
});

test('EX_OPE_5040 EX_OPE_5030: a peer sending its own CA chain (a foreign root with the IGC-Santé names) is refused: only the local store counts', async () => {
  const rootKey = await generateRsaKey();
  const interKey = await generateRsaKey();
  const now = Date.now();
  const root = issueCertificate({
    subject: ROOT_SUBJECT,
    keyPair: rootKey,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    ca: {},
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const inter = issueCertificate({
    subject: INTERMEDIATE_SUBJECT,
    keyPair: interKey,
    issuer: root,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    ca: { pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const a = world.pki.operators.find((o) => o.id === 'A');
  const leaf = issueCertificate({
    subject: operatorSubject(a as never),
    keyPair: await generateRsaKey(),
    issuer: inter,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 86_400_000),
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  fs.writeFileSync(path.join(dir, 'forged.crt'), leaf.certPem);
  fs.writeFileSync(path.join(dir, 'forged.key'), leaf.keyPem);
  const text = await refusedAfterTls({ cert: path.join(dir, 'forged.crt'), key: path.join(dir, 'forged.key'), chain: [inter.certPem, root.certPem] });
  assert.match(text, /^5\.7\.1 Certificate CN=mss\.ch-sandbox-a\.fr.* does not validate against the IGC-Sante trust store/);
});

/** openssl s_client through STARTTLS, asynchronously (the gate runs in this process). */
function sClient(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  // The whole output: the "Cipher is" and "Server Temp Key" lines come before TLS 1.3's
  // session tickets, whose hex dumps would push them out of runCommand's default tail.
  return runCommand(['openssl', 's_client', '-connect', `${host}:${port}`, '-starttls', 'smtp', '-cert', A.cert, '-key', A.key, ...args], {
    timeoutMs: 15_000,
    input: 'QUIT\r\n',
    keepBytes: 1 << 20,
  });
}

const TLS11_CLIENT = ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'];

test('EX_OPE_5010: a client offering only TLS 1.1 gets no session (openssl s_client), while the same client does get TLS 1.1 from a server that offers it', async () => {
  // Positive control: this openssl can speak TLS 1.1 with these options, so the refusal
  // below is the gate's, not a client unable to try. (-www: s_server stays up with stdin closed.)
  const controlPort = await freePort();
  const server = spawnTracked('openssl', [
    's_server',
    '-accept',
    `127.0.0.1:${controlPort}`,
    '-naccept',
    '1',
    '-www',
    '-tls1_1',
    '-cipher',
    'DEFAULT@SECLEVEL=0',
    '-cert',
    A.cert,
    '-key',
    A.key,
  ]);
  try {
    await waitForOutput(server, (out) => out.includes('ACCEPT'), 10_000);
    const control = await runCommand(['openssl', 's_client', '-connect', `127.0.0.1:${controlPort}`, ...TLS11_CLIENT], {
      timeoutMs: 15_000,
      input: 'Q\n',
      keepBytes: 1 << 20,
    });
    assert.match(control.stdout, /Protocol\s*: TLSv1\.1/, `control: ${control.stdout}${control.stderr}`);
    assert.match(control.stdout, /Cipher is (?!\(NONE\))/);
  } finally {
    await server.stop();
  }
  const r = await sClient(...TLS11_CLIENT);
  assert.notEqual(r.code, 0, r.stdout);
  assert.doesNotMatch(r.stdout, /Cipher is (?!\(NONE\))/);
});

/** The bits of the key exchange's ephemeral key, from s_client's "Server Temp Key" line. */
function tempKey(stdout: string): { kind: string; bits: number; curve?: string } {
  const m = /(?:Server|Peer) Temp Key: (\w+), (?:([\w-]+), )?(\d+) bits/.exec(stdout);
  assert.ok(m, `no temp key line in: ${stdout}`);
  return { kind: m[1] as string, bits: Number(m[3]), ...(m[2] ? { curve: m[2] } : {}) };
}

test('EX_OPE_5010 EX_OPE_5030: a DHE suite gets a DH group of at least 2048 bits, an ECDHE suite a curve of at least 256 bits (openssl s_client)', async () => {
  for (const cipher of ['DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
    const r = await sClient('-tls1_2', '-cipher', cipher);
    assert.match(r.stdout, new RegExp(`Cipher is ${cipher}`), r.stdout);
    const key = tempKey(r.stdout);
    assert.equal(key.kind, 'DH', r.stdout);
    assert.ok(key.bits >= 2048, `${cipher}: DH ${key.bits} bits`);
  }
  for (const curves of ['P-256', 'P-384', 'P-521']) {
    const r = await sClient('-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384', '-curves', curves);
    assert.match(r.stdout, /Cipher is ECDHE-RSA-AES256-GCM-SHA384/, r.stdout);
    const key = tempKey(r.stdout);
    assert.equal(key.kind, 'ECDH', r.stdout);
    assert.ok(key.bits >= 256, `${curves}: ECDH ${key.bits} bits`);
  }
});

test('EX_OPE_5010: a client offering only X25519 (a 255-bit curve, outside the profile) gets no session, in TLS 1.2 and 1.3 (openssl s_client)', async () => {
  const tls12 = await sClient('-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384', '-curves', 'X25519');
  assert.notEqual(tls12.code, 0, tls12.stdout);
  assert.doesNotMatch(tls12.stdout, /Cipher is (?!\(NONE\))/);
  const tls13 = await sClient('-tls1_3', '-groups', 'X25519');
  assert.notEqual(tls13.code, 0, tls13.stdout);
  assert.doesNotMatch(tls13.stdout, /Cipher is (?!\(NONE\))/);
  // The same client with a curve of the profile does get a session.
  const ok = await sClient('-tls1_3', '-groups', 'P-256');
  assert.match(ok.stdout, /Cipher is TLS_/, ok.stdout);
});

test('EX_OPE_5010: a client offering only a TLS 1.2 suite outside the six gets no session (openssl s_client)', async () => {
  for (const cipher of ['AES256-SHA', 'ECDHE-RSA-AES128-SHA', 'DHE-RSA-AES256-SHA256']) {
    const r = await sClient('-tls1_2', '-cipher', cipher);
    assert.notEqual(r.code, 0, `${cipher}: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /Cipher is (?!\(NONE\))/);
  }
  const ok = await sClient('-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384');
  assert.match(ok.stdout, /Cipher is ECDHE-RSA-AES256-GCM-SHA384/);
});

test('EX_3.1_5030 steps 5-6: a listed DN sending for a domain the list maps to another DN is refused, naming DN, domain and list', async () => {
  const { c, afterTls } = await connectTls(host, port, A);
  assert.equal(afterTls.code, 250);
  const r = await c.command('MAIL FROM:<someone@clinique-sandbox-b.mssante.fr>');
  assert.equal(r.code, 550);
  assert.match(
    r.text,
    /^5\.7\.1 Certificate DN CN=mss\.ch-sandbox-a\.fr,.* is not listed for sender domain clinique-sandbox-b\.mssante\.fr in the liste blanche MSSante \(listed for clinique-sandbox-b\.mssante\.fr: CN=smtp\.clinique-sandbox-b\.fr/,
  );
  await c.quit();
});

test('EX_3.1_5030 step 6: a MAIL FROM domain not in the liste blanche is refused; a MAIL FROM without domain too', async () => {
  const { c } = await connectTls(host, port, A);
  const r = await c.command('MAIL FROM:<jean@gmail.com>');
  assert.equal(r.code, 550);
  assert.match(r.text, /^5\.7\.1 Sender domain gmail\.com is not in the liste blanche MSSante/);
  const n = await c.command('MAIL FROM:<postmaster>');
  assert.ok(n.code >= 500, `${n.code} ${n.text}`);
  await c.quit();
});

test("EX_3.1_5030: a listed DN with its own domain delivers to B's Postfix, and the reply echoes Postfix's queue id", async () => {
  const { c } = await connectTls(host, port, A);
  const r = await send(c, ALICE, [BRUNO], message({ from: ALICE, to: [BRUNO], subject: 'gate-in direct' }));
  await c.quit();
  assert.equal(r.data?.code, 250, r.data?.text);
  const id = /queued as ([0-9A-Za-z]+)/.exec(r.data?.text ?? '')?.[1];
  assert.ok(id);
  const pf = world.node('B').postfix;
  await pf?.waitFor(() => deliveredMatching(world, 'B', /Subject: gate-in direct/).length === 1, 15_000, 'delivery');
  assert.match(pf?.maillog() ?? '', new RegExp(`${id}: client=\\S+\\[127\\.0\\.0\\.1\\]`));
});

test('EX_3.1_5030 null sender: an empty MAIL FROM from a listed DN is accepted (DSN), without MAIL FROM ↔ DN check', async () => {
  const { c } = await connectTls(host, port, A);
  const r = await send(c, '', [BRUNO], message({ from: 'MAILER-DAEMON@ch-sandbox-a.mssante.fr', to: [BRUNO], subject: 'dsn null sender' }));
  await c.quit();
  assert.equal(r.mail.code, 250);
  assert.equal(r.data?.code, 250, r.data?.text);
});

test('RE_GBM_4420: a suspended mailbox gets 550 5.2.1; an unknown one 550 5.1.1; another domain is never relayed', async () => {
  const { c } = await connectTls(host, port, A);
  assert.equal((await c.command(`MAIL FROM:<${ALICE}>`)).code, 250);
  const suspended = await c.command('RCPT TO:<ancien.service@clinique-sandbox-b.mssante.fr>');
  assert.equal(suspended.code, 550);
  assert.match(suspended.text, /^5\.2\.1 Mailbox <ancien\.service@clinique-sandbox-b\.mssante\.fr> is suspended/);
  const unknown = await c.command('RCPT TO:<nobody@clinique-sandbox-b.mssante.fr>');
  assert.equal(unknown.code, 550);
  assert.match(unknown.text, /^5\.1\.1 /);
  const relay = await c.command('RCPT TO:<x@ch-sandbox-a.mssante.fr>');
  assert.equal(relay.code, 550);
  assert.match(relay.text, /^5\.7\.1 Relay access denied: ch-sandbox-a\.mssante\.fr/);
  await c.quit();
});

test('EX_GBM_4010: a test mailbox accepts only senders whose name says "test"', async () => {
  const { c } = await connectTls(host, port, A);
  assert.equal((await c.command(`MAIL FROM:<${ALICE}>`)).code, 250);
  const r = await c.command('RCPT TO:<test.recette@clinique-sandbox-b.mssante.fr>');
  assert.equal(r.code, 550);
  assert.match(r.text, /^5\.7\.1 .* is a test mailbox: it exchanges only with test mailboxes/);
  assert.equal((await c.command('RSET')).code, 250);
  assert.equal((await c.command('MAIL FROM:<test.recette@ch-sandbox-a.mssante.fr>')).code, 250);
  assert.equal((await c.command('RCPT TO:<test.recette@clinique-sandbox-b.mssante.fr>')).code, 250);
  await c.quit();
});

test('EX_3.1_5015 EX_3.1_5010: dgs.mssante.fr in bulk (20 parallel sessions) and interop-mssante.apicrypt.org are accepted like any listed domain', async () => {
  const dgsEntry = EXTRA_SANDBOX_ENTRIES.find((e) => e.domain === 'dgs.mssante.fr');
  const apicryptEntry = EXTRA_SANDBOX_ENTRIES.find((e) => e.domain === 'interop-mssante.apicrypt.org');
  assert.ok(dgsEntry && apicryptEntry);
  const dgs = await listedIdentity('dgs', dgsEntry.dn);
  const apicrypt = await listedIdentity('apicrypt', apicryptEntry.dn);
  const to = ['bruno.petit', 'secretariat', 'dpi'].map((l) => `${l}@clinique-sandbox-b.mssante.fr`);
  const results = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const { c } = await connectTls(host, port, dgs);
      const r = await send(c, 'alerte@dgs.mssante.fr', to, message({ from: 'alerte@dgs.mssante.fr', to, subject: `DGS-Urgent ${i}` }));
      await c.quit();
      return r.data?.code;
    }),
  );
  assert.deepEqual(results, Array(20).fill(250));
  const { c } = await connectTls(host, port, apicrypt);
  const r = await send(
    c,
    'dr.x@interop-mssante.apicrypt.org',
    [BRUNO],
    message({ from: 'dr.x@interop-mssante.apicrypt.org', to: [BRUNO], subject: 'apicrypt' }),
  );
  await c.quit();
  assert.equal(r.data?.code, 250, r.data?.text);
});

test('EX_GBM_4410: a SIZE= above gates.in.maxMessageBytes is refused at MAIL with 552 5.3.4 naming the limit, and traced; SIZE= at the limit passes', async () => {
  const limit = world.node('B').config.gates.in.maxMessageBytes;
  const { c } = await connectTls(host, port, A);
  const r = await c.command(`MAIL FROM:<${ALICE}> SIZE=${limit + 1}`);
  assert.equal(r.code, 552, r.text);
  assert.match(r.text, new RegExp(`^5\\.3\\.4 Declared message size ${limit + 1} bytes \\(SIZE=\\) exceeds the size limit of ${limit} bytes`));
  assert.equal((await c.command(`MAIL FROM:<${ALICE}> SIZE=${limit}`)).code, 250);
  await c.quit();
  const records = traceLines(path.join(world.node('B').config.state.dir, 'traces'));
  const t = records.find((x) => (x.response as { code?: string }).code === 'GATE_TOO_BIG' && (x.request as { size?: number }).size === limit + 1);
  assert.ok(t, 'a GATE_TOO_BIG trace for the SIZE= refusal');
  assert.match(String((t.response as { message: string }).message), /^552 5\.3\.4 /);
  assert.match(String((t.actor as { id: string }).id), /CN=mss\.ch-sandbox-a\.fr/);
});

test('EX_GBM_4410: a message over gates.in.maxMessageBytes without SIZE= is refused at the final dot with 552 5.3.4 naming the limit, traced, and never reaches Postfix', async () => {
  const limit = world.node('B').config.gates.in.maxMessageBytes;
  const { c } = await connectTls(host, port, A);
  const line = `${'z'.repeat(98)}\r\n`;
  const body = line.repeat(Math.ceil((limit + 1024) / line.length));
  const r = await send(c, ALICE, [BRUNO], message({ from: ALICE, to: [BRUNO], subject: 'gate-in oversized', body }));
  assert.equal(r.data?.code, 552, r.data?.text);
  assert.match(r.data?.text ?? '', new RegExp(`^5\\.3\\.4 Message exceeds the size limit of ${limit} bytes`));
  // The session goes on: the next transaction is served.
  const next = await send(c, ALICE, [BRUNO], message({ from: ALICE, to: [BRUNO], subject: 'gate-in after oversized' }));
  assert.equal(next.data?.code, 250, next.data?.text);
  await c.quit();
  await world
    .node('B')
    .postfix?.waitFor(() => deliveredMatching(world, 'B', /Subject: gate-in after oversized/).length === 1, 15_000, 'delivery after the refusal');
  assert.equal(deliveredMatching(world, 'B', /Subject: gate-in oversized/).length, 0);
  const records = traceLines(path.join(world.node('B').config.state.dir, 'traces'));
  const t = records.find((x) => (x.response as { code?: string }).code === 'GATE_TOO_BIG' && (x.request as { step?: string }).step === 'DATA');
  assert.ok(t, 'a GATE_TOO_BIG trace for the DATA refusal');
  assert.match(String((t.response as { message: string }).message), /^552 5\.3\.4 Message exceeds the size limit/);
});

test('SMTP smuggling: <LF>.<CR><LF> inside a message does not end it at Postfix (the gate stuffs dots after any LF)', async () => {
  const { c } = await connectTls(host, port, A);
  const body = `Subject: smuggle outer\r\n\r\nbefore\n.\r\nMAIL FROM:<${ALICE}>\r\nRCPT TO:<${BRUNO}>\r\nDATA\r\nSubject: smuggled inner\r\n\r\nx\r\n`;
  const r = await send(c, ALICE, [BRUNO], body);
  await c.quit();
  assert.equal(r.data?.code, 250, r.data?.text);
  const pf = world.node('B').postfix;
  await pf?.waitFor(() => deliveredMatching(world, 'B', /Subject: smuggle outer/).length === 1, 15_000, 'delivery');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(deliveredMatching(world, 'B', /^Subject: smuggled inner/m).filter((f) => !/Subject: smuggle outer/.test(fs.readFileSync(f, 'utf8'))).length, 0);
});

test('EX_GDT_5050: refusals and receptions are in the functional traces with the peer DN and the reason', async () => {
  const records = traceLines(path.join(world.node('B').config.state.dir, 'traces'));
  const refusal = records.find((r) => r.action === 'message.receive' && (r.response as { code?: string }).code === 'GATE_PEER_NOT_LISTED');
  assert.ok(refusal, 'a GATE_PEER_NOT_LISTED trace');
  assert.match(String((refusal.actor as { id: string }).id), /CN=mss\.rogue\.sandbox\.invalid/);
  const ok = records.find(
    (r) =>
      r.action === 'message.receive' && (r.response as { ok: boolean }).ok && (r.message as { subject?: string } | undefined)?.subject === 'gate-in direct',
  );
  assert.ok(ok, 'a successful reception trace with the subject');
});
