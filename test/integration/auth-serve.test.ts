// The API LPS as production runs it: `mss-sidecar serve` (checker endpoint, PSC fronts,
// AUTH-CLI fronts) on the mailbox registry of examples/registry.yaml, the embedded state
// store and the functional traces, with the real Dovecot and Postfix asking it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { structureIdNat } from '../../src/registry/ids.js';
import { generateTestPki, type PkiManifest } from '../../sandbox/pki.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { waitForExit } from '../../src/util/process-group.js';
import { CLI, cliEnv, REPO_ROOT } from '../helpers/cli.js';
import { runCliAsync } from '../helpers/cli-async.js';
import { imapAuthCliLogin, imapXoauth2Login, smtpXoauth2Login } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsMtas, type LpsMtas, type MilterSeen } from '../helpers/lps-stack.js';
import { freePorts } from '../helpers/ports.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const root = tmpDir('mss-serve-');
const HOLDER = '810000000101';
const DELEGATE = '810000000102';
const PER = 'jean.dupont@ch-exemple.mssante.fr';
const APP = 'dpi.comptes-rendus@ch-exemple.mssante.fr';
const APP_SUSPENDED = 'laboratoire.resultats@ch-exemple.mssante.fr';

let psc: SandboxPsc;
let mtas: LpsMtas | undefined;
let serve: Spawned | undefined;
let pki: PkiManifest;
let config: string;
let ports: { imap: number; submission: number; authCliImap: number };
/** EX_GDT_5060: the addresses the holder's logins came from, and what its client said. */
const holderImapFrom = freshLoopback();
const holderSmtpFrom = freshLoopback();
const LPS_ID = { name: 'LPS Exemple', version: '4.2' };
const clientCert = () => ({ cert: fs.readFileSync(pki.authCli[0]?.cert ?? '', 'utf8'), key: fs.readFileSync(pki.authCli[0]?.key ?? '', 'utf8') });

before(async () => {
  const cert = selfSignedCert(root);
  psc = new SandboxPsc({ tls: cert });
  const structure = structureIdNat('FINESS', '130000001');
  [pki] = await Promise.all([
    generateTestPki(path.join(root, 'pki'), {
      authCli: [{ id: 'EX', structureId: structure, organisation: 'CH EXEMPLE', department: 'Bouches-du-Rhône (13)' }],
    }),
    psc.start(),
  ]);
  const [checker, dovecotLpsImap, submissionBackend, imap, submission, authCliImap, authCliSubmission] = await freePorts(7);
  ports = { imap, submission, authCliImap };
  const registry = path.join(root, 'registry.yaml');
  fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'registry.yaml'), registry);
  config = path.join(root, 'config.yaml');
  fs.writeFileSync(
    config,
    `operator:
  name: CH Exemple
  domains: [ch-exemple.mssante.fr]
  structureId: "${structure}"
  certificate: ${cert.certFile}
  key: ${cert.keyFile}
trust: { dir: ${pki.trustDir}, crlDir: ${pki.crlDir} }
state: { dir: ${path.join(root, 'state')} }
registry: { file: ${registry} }
auth:
  psc: { issuer: "${psc.issuer}", caFile: ${cert.certFile}, audience: ${psc.clientId} }
  checker: { listen: { host: 127.0.0.1, port: ${checker} } }
  front:
    certificate: ${cert.certFile}
    key: ${cert.keyFile}
    imap: { listen: { host: 127.0.0.1, port: ${imap} }, backend: { port: ${dovecotLpsImap} } }
    submission: { listen: { host: 127.0.0.1, port: ${submission} }, backend: { port: ${submissionBackend} } }
  authCli:
    enabled: true
    imap: { listen: { host: 127.0.0.1, port: ${authCliImap} }, backend: { port: ${dovecotLpsImap} } }
    submission: { listen: { host: 127.0.0.1, port: ${authCliSubmission} }, backend: { port: ${submissionBackend} } }
    certificate: ${cert.certFile}
    key: ${cert.keyFile}
`,
  );
  const submissions: MilterSeen[] = [];
  mtas = await startLpsMtas(root, { checkerUrl: `http://127.0.0.1:${checker}/v1/xoauth2`, cert, dovecotLpsImap, submissionBackend, submissions });
  serve = spawnTracked(process.execPath, [CLI, '--config', config, 'serve'], { env: cliEnv() });
  await waitForOutput(serve, (out) => /"service":"api-lps".*"msg":"service started"/.test(out), 20_000);
});

after(async () => {
  await serve?.stop();
  await mtas?.stop();
  await psc.stop();
});

test('EX_LPS_0900 EX_GBM_5414: `serve` checks XOAUTH2 logins against the registry: holder and delegate in, anyone else out', async () => {
  const holder = await psc.mint({ idNat: HOLDER });
  assert.equal((await imapXoauth2Login(ports.imap, PER, holder, { localAddress: holderImapFrom, id: LPS_ID })).verdict, 'OK');
  assert.equal((await smtpXoauth2Login(ports.submission, PER, holder, { localAddress: holderSmtpFrom })).verdict, 'OK');
  assert.equal((await imapXoauth2Login(ports.imap, PER, await psc.mint({ idNat: DELEGATE }), { localAddress: freshLoopback() })).verdict, 'OK');
  const stranger = await imapXoauth2Login(ports.imap, PER, await psc.mint({ idNat: '810000000999' }), { localAddress: freshLoopback() });
  assert.match(stranger.line, /^a3 NO \[AUTHENTICATIONFAILED\]/);
});

test("EX_LPS_1200: `serve` runs the AUTH-CLI fronts on the registry: the APP mailbox of the certificate's structure opens, a suspended one does not", async () => {
  assert.equal((await imapAuthCliLogin(ports.authCliImap, APP, { ...clientCert(), localAddress: freshLoopback() })).verdict, 'OK');
  assert.equal((await imapAuthCliLogin(ports.authCliImap, APP_SUSPENDED, { ...clientCert(), localAddress: freshLoopback() })).verdict, 'FAIL');
});

test('EX_GDT_5060 EX_GDT_5040: logins move the last login in the state store and leave functional traces, refusals included', async () => {
  const shown = await runCliAsync(['--config', config, 'bal', 'show', PER]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /last login: \d{4}-\d\d-\d\dT[^ ]+ by 81000000010[12]/);
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else files.push(path.join(d, e.name));
    }
  };
  walk(path.join(root, 'state', 'traces'));
  const logins = files
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean))
    .map(
      (l) =>
        JSON.parse(l) as {
          action: string;
          bal?: string;
          actor: { id: string; onBehalfOf?: string };
          means?: { authType?: string; service?: string; client?: string };
          address?: string;
          response: { ok: boolean; code?: string };
        },
    )
    .filter((r) => r.action === 'login');
  const ok = (bal: string, authType: string) => logins.filter((r) => r.bal === bal && r.response.ok && r.means?.authType === authType);
  // EX_GDT_5060: authentication type, identity, service, client and network address.
  const holderImap = ok(PER, 'PSC/XOAUTH2').filter((r) => r.actor.id === HOLDER && r.means?.service === 'imap');
  const holderSmtp = ok(PER, 'PSC/XOAUTH2').filter((r) => r.actor.id === HOLDER && r.means?.service === 'smtp');
  assert.deepEqual(
    holderImap.map((r) => [r.address, r.means?.client, r.actor.onBehalfOf]),
    [[holderImapFrom, '"name" "LPS Exemple" "version" "4.2"', undefined]],
    'IMAP: the ID the LPS sent and its address',
  );
  assert.deepEqual(
    holderSmtp.map((r) => [r.address, r.means?.client, r.actor.onBehalfOf]),
    [[holderSmtpFrom, 'EHLO lps.test', undefined]],
    'SMTP: the EHLO name and the address',
  );
  assert.ok(ok(PER, 'PSC/XOAUTH2').some((r) => r.actor.id === DELEGATE && r.actor.onBehalfOf === HOLDER));
  assert.ok(ok(APP, 'AUTH-CLI certificate').some((r) => r.actor.id === pki.authCli[0]?.structureId));
  assert.ok(logins.some((r) => r.bal === PER && !r.response.ok && r.response.code === 'not-authorised' && r.actor.id === '810000000999'));
  assert.ok(logins.some((r) => r.bal === APP_SUSPENDED && !r.response.ok && r.response.code === 'suspended'));
  assert.ok(!files.some((f) => fs.readFileSync(f, 'utf8').includes('eyJ')), 'no token in the traces');
});

test('EX_LPS_1000: `serve` stops its fronts and endpoint on SIGTERM', async () => {
  const s = serve as Spawned;
  process.kill(s.child.pid ?? 0, 'SIGTERM');
  assert.ok(await waitForExit(s.child, 10_000), 'stopped');
  assert.equal(s.child.exitCode, 0, s.output().slice(-2000));
  const refused = await imapXoauth2Login(ports.imap, PER, await psc.mint({ idNat: HOLDER }), { localAddress: freshLoopback() }).catch((e: Error) => e.message);
  assert.match(String(refused), /ECONNREFUSED/);
});
