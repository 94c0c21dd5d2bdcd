// `mss-sidecar sandbox --dir D` as later parts will use it (a child process on loopback), and
// the self-check `make sandbox` runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { SandboxManifest, SandboxOperatorEndpoints } from '../../sandbox/manifest.js';
import { operatorMtasMissing } from '../../sandbox/operator-mtas.js';
import { controlWhitelist } from '../../sandbox/whitelist-server.js';
import { CLI, cliEnv, runCliAsync } from '../helpers/cli.js';
import { waitForExit } from '../../src/util/process-group.js';
import { spawnTracked, waitForOutput } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import { SmtpClient } from '../helpers/smtp-client.js';

test("EX_2.2_5010: `sandbox --dir D` prints ready, describes itself in D/sandbox.json, serves a list operator A can sync, lists each operator's gate-in, certificate and key and the rogue/expired/revoked certificates (EX_OPE_5020 EX_OPE_5040 EX_OPE_5050), stops on SIGTERM", async () => {
  const dir = tmpDir();
  const sandbox = spawnTracked(process.execPath, [CLI, 'sandbox', '--dir', dir], { env: cliEnv() });
  await waitForOutput(sandbox, (out) => /^ready$/m.test(out), 90_000); // PKI, then two Postfix and Dovecot: ~23 s at load 20 on 2 cores
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  assert.equal(m.pid, sandbox.child.pid);
  assert.match(m.endpoints.whitelist?.url ?? '', /^https:\/\/127\.0\.0\.1:\d+\/listeblanchemssante\.xml$/);
  assert.deepEqual(
    m.operators.map((o) => o.id),
    ['A', 'B'],
  );
  for (const d of ['dgs.mssante.fr', 'interop-mssante.apicrypt.org', 'ght-sandbox.mssante.fr']) assert.ok(m.domains.includes(d), d);
  // The configuration files are valid as written, with the operator's own domains.
  const cfg = parseConfigText(fs.readFileSync(m.config, 'utf8'), m.config);
  assert.deepEqual(cfg.operator.domains, m.operators[0]?.domains);
  assert.ok(fs.existsSync(cfg.operator.certificate) && fs.existsSync(cfg.trust.dir));
  parseConfigText(fs.readFileSync(m.operators[1]?.config ?? '', 'utf8'), 'config-b.yaml');

  // Issue [gates] scope 7: endpoints.operators lists each operator's gate-in, certificate and
  // key, and the certificates a peer may not use (EX_OPE_5020 rogue, EX_OPE_5040 expired, EX_OPE_5050 revoked).
  const ops = m.endpoints.operators;
  assert.ok(ops, 'endpoints.operators');
  assert.deepEqual(Object.keys(ops.nodes).sort(), ['A', 'B']);
  for (const o of m.operators) {
    const node: SandboxOperatorEndpoints | undefined = ops.nodes[o.id];
    assert.ok(node, o.id);
    const opCfg = parseConfigText(fs.readFileSync(node.config, 'utf8'), node.config);
    assert.deepEqual(node.domains, o.domains, o.id);
    assert.match(node.gateIn.host, /^127\.\d+\.\d+\.\d+$/, `${o.id} gate-in host`);
    assert.ok(Number.isInteger(node.gateIn.port) && node.gateIn.port > 0, `${o.id} gate-in port`);
    assert.deepEqual(node.gateIn, { host: opCfg.gates.in.listen.host, port: opCfg.gates.in.listen.port }, `${o.id} gate-in is what its serve listens on`);
    assert.equal(node.cert, opCfg.operator.certificate, `${o.id} cert`);
    assert.equal(node.key, opCfg.operator.key, `${o.id} key`);
    assert.match(fs.readFileSync(node.cert, 'utf8'), /-----BEGIN CERTIFICATE-----/);
    assert.match(fs.readFileSync(node.key, 'utf8'), /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
    const c = await SmtpClient.connect(node.gateIn.port, node.gateIn.host);
    const ehlo = await c.command('EHLO sandbox-test.invalid');
    assert.equal(ehlo.code, 250, `${o.id} gate-in answers`);
    assert.match(ehlo.text, /STARTTLS/);
    await c.quit();
  }
  for (const kind of ['rogue', 'expired', 'revoked'] as const) {
    const r = ops.refused[kind];
    assert.match(fs.readFileSync(r.cert, 'utf8'), /-----BEGIN CERTIFICATE-----/, kind);
    assert.match(fs.readFileSync(r.key, 'utf8'), /PRIVATE KEY-----/, kind);
  }

  const sync = await runCliAsync(['--config', m.config, 'whitelist', 'sync']);
  assert.equal(sync.status, 0, sync.stderr);
  // The sandbox stored this list for A at start (as a first `whitelist sync` would): unchanged.
  assert.match(sync.stdout, /^(updated|unchanged) domains=6 dns=4 /);
  await controlWhitelist(m.endpoints.whitelist?.control ?? '', '/fault?mode=bad-signature');
  const refused = await runCliAsync(['--config', m.config, 'whitelist', 'sync']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /error WL_DIGEST_MISMATCH/);

  process.kill(sandbox.child.pid ?? 0, 'SIGTERM');
  assert.ok(await waitForExit(sandbox.child, 5000), 'stopped on SIGTERM');
  assert.equal(sandbox.child.exitCode, 0, `exit status ${sandbox.child.exitCode}, signal ${sandbox.child.signalCode}\n${sandbox.output()}`);
});

test('`sandbox --dir D` stops on SIGINT (Ctrl-C at a terminal) with status 0, its servers closed', async () => {
  const dir = tmpDir();
  const sandbox = spawnTracked(process.execPath, [CLI, 'sandbox', '--dir', dir], { env: cliEnv() });
  await waitForOutput(sandbox, (out) => /^ready$/m.test(out), 90_000);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  const url = m.endpoints.whitelist?.url ?? '';
  process.kill(sandbox.child.pid ?? 0, 'SIGINT');
  assert.ok(await waitForExit(sandbox.child, 5000), 'stopped on SIGINT');
  assert.equal(sandbox.child.exitCode, 0, `exit status ${sandbox.child.exitCode}, signal ${sandbox.child.signalCode}\n${sandbox.output()}`);
  // Nothing listens any more where the liste blanche was served.
  const { port } = new URL(url);
  await assert.rejects(new Promise((resolve, reject) => net.connect(Number(port), '127.0.0.1').once('connect', resolve).once('error', reject)));
});

test('the sandbox self-check (make sandbox) passes every step and reports each; `sandbox selfcheck --dir D` runs in D and keeps it', async () => {
  const dir = path.join(tmpDir('mss-selfcheck-'), 'kept');
  const r = await runCliAsync(['sandbox', 'selfcheck', '--dir', dir], { timeoutMs: 540_000 });
  const text = r.stdout;
  const lines = text.split('\n');
  const summary = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(text);
  const report = { passed: Number(summary?.[1] ?? 0), failed: Number(summary?.[2] ?? -1), skipped: Number(summary?.[3] ?? 0) };
  assert.equal(r.status, 0, text + r.stderr);
  assert.equal(report.failed, 0, text);
  assert.match(text, new RegExp(`sandbox in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  assert.ok(fs.existsSync(path.join(dir, 'selfcheck.log')) && fs.existsSync(path.join(dir, 'sandbox.json')), 'the directory given is used and kept');
  // With Postfix, Dovecot and dovecot-auth-lua installed (CI installs them), nothing may be
  // skipped: the submission, API LPS, gate and end-to-end steps must all have run.
  if (operatorMtasMissing().length === 0) assert.equal(report.skipped, 0, lines.filter((l) => /SKIP/.test(l)).join('\n'));
  assert.ok(report.passed >= 45, `${report.passed} steps passed`);
  for (const expected of [
    /PASS {2}whitelist: a tampered list is refused and the last valid copy kept/,
    /PASS {2}whitelist: slow body/,
    /PASS {2}submission: EX_GBM_4420/,
    /PASS {2}api-lps: IMAP login with a sandbox PSC token/,
    /PASS {2}gates: A → B/,
    /PASS {2}gates: B refuses a revoked certificate \(EX_OPE_5050\)/,
    /PASS {2}end to end: an LPS of A sends over A's 587 front/,
    /PASS {2}end to end: refusals through the chain/,
    /PASS {2}annuaire: publish the sandbox registry/,
    /PASS {2}stats: /,
    // The perimeter step (issue #12): the doors around the sidecar are closed.
    /PASS {2}perimeter: the gates' loopback doors are unix sockets/,
    /PASS {2}perimeter: `sendmail` on A's host is submission too/,
    /PASS {2}perimeter: every domain of the liste blanche not ours leaves A's Postfix through the outbound gate/,
    /PASS {2}perimeter: on 143, a password does not open an MSSanté mailbox/,
    /passed, 0 failed/,
  ]) {
    assert.match(text, expected);
  }
});
