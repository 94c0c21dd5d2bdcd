// Sandbox component: operator A's API LPS (TM5.2P–TM5.4P) — the real Dovecot and Postfix
// with the shipped pieces, behind the mss-sidecar API LPS service (checker, PSC fronts,
// AUTH-CLI fronts) run on a small registry of operator A, trusting the sandbox PSC and the
// sandbox IGC-Santé PKI. Needs Dovecot (with dovecot-auth-lua) and Postfix installed and
// root; without them the component says why in sandbox.json and its self-check steps are
// skipped.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { apiLpsService } from '../auth/service.js';
import { parseConfigText } from '../config/load.js';
import { openSubmission } from '../submission/open.js';
import { SharedResources } from '../daemon/shared.js';
import type { SandboxComponent } from './component.js';
import { lpsMtasAvailable, startLpsMtas } from './lps-mtas.js';

/** The sandbox identities: a physician holding a PER mailbox, and structure A's APP mailbox. */
export const SANDBOX_HOLDER = '899700000001';

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const lpsComponent: SandboxComponent = {
  name: 'api-lps',
  async start(ctx) {
    const available = lpsMtasAvailable();
    if (!available.ok) return { endpoints: { lps: { url: 'not started', unavailable: `needs ${available.missing.join(', ')}` } }, stop: async () => {} };
    const psc = ctx.endpoints.psc;
    const op = ctx.pki.operators[0];
    const cli = ctx.pki.authCli.find((c) => c.id === op?.id);
    if (!psc || !op || !cli) throw new Error('the API LPS component needs the PSC component and operator A with an AUTH-CLI certificate');
    const finess = op.structureId.slice(1);
    const domain = op.domains[0] as string;
    const mailbox = `docteur.sandbox@${domain}`;
    const appMailbox = `dpi@${domain}`;
    const dir = path.join(ctx.dir, 'lps');
    fs.mkdirSync(dir, { recursive: true });
    // Postfix and Dovecot workers (users postfix, dovecot, mail) must traverse D to reach
    // D/lps; traversal only (no listing), the PKI's keys stay 0600.
    fs.chmodSync(ctx.dir, fs.statSync(ctx.dir).mode | 0o011);
    fs.chmodSync(dir, 0o755);
    // EX_GBM_4020: each managed domain has its auto-reply test mailbox.
    const autoReplies = op.domains
      .map(
        (d) => `  - address: reponse.automatique-test@${d}
    type: APP
    created: 2025-01-20
    test: true
    structure: { type: FINESS, id: "${finess}" }
    responsible: { name: "Service informatique du CH Sandbox A" }
    description: Réponse automatique de test
`,
      )
      .join('');
    fs.writeFileSync(
      path.join(dir, 'registry.yaml'),
      `# Operator A's mailboxes for the sandbox API LPS (docs/registry.md).
version: 1
mailboxes:
${autoReplies}  - address: ${mailbox}
    type: PER
    created: 2025-01-20
    holder: { idNat: "${SANDBOX_HOLDER}", lastName: SANDBOX, firstName: Docteur }
    structure: { type: FINESS, id: "${finess}" }
    contact: { email: docteur.sandbox@example.org }
  - address: ${appMailbox}
    type: APP
    created: 2025-01-20
    structure: { type: FINESS, id: "${finess}" }
    responsible: { name: "Service informatique du CH Sandbox A" }
    description: DPI du CH Sandbox A
`,
    );
    const host = ctx.host;
    const ports = new Set<number>();
    while (ports.size < 7) ports.add(await freePort(host));
    const [checker, dovecotLpsImap, submissionBackend, imap, submission, authCliImap, authCliSubmission] = [...ports] as [number, number, number, number, number, number, number];
    const configFile = path.join(dir, 'config.yaml');
    fs.writeFileSync(
      configFile,
      `# Operator A's API LPS as the sandbox runs it: \`mss-sidecar --config ${configFile} serve\` would run the same.
operator:
  name: ${JSON.stringify(op.organisation)}
  domains: ${JSON.stringify(op.domains)}
  structureId: "${op.structureId}"
  certificate: ${op.cert}
  key: ${op.key}
trust: { dir: ${ctx.pki.trustDir}, crlDir: ${ctx.pki.crlDir} }
state: { dir: ${path.join(dir, 'state')} }
registry: { file: ${path.join(dir, 'registry.yaml')} }
auth:
  psc: { issuer: "${psc.issuer}", caFile: ${psc.ca}, authorizedParty: ${psc.clientId} }
  checker: { listen: { host: ${host}, port: ${checker} } }
  front:
    certificate: ${ctx.pki.https.cert}
    key: ${ctx.pki.https.key}
    imap: { listen: { host: ${host}, port: ${imap} }, backend: { host: ${host}, port: ${dovecotLpsImap} } }
    submission: { listen: { host: ${host}, port: ${submission} }, backend: { host: ${host}, port: ${submissionBackend} } }
  authCli:
    enabled: true
    imap: { listen: { host: ${host}, port: ${authCliImap} }, backend: { host: ${host}, port: ${dovecotLpsImap} } }
    submission: { listen: { host: ${host}, port: ${authCliSubmission} }, backend: { host: ${host}, port: ${submissionBackend} } }
    certificate: ${ctx.pki.https.cert}
    key: ${ctx.pki.https.key}
`,
    );
    const config = parseConfigText(fs.readFileSync(configFile, 'utf8'), configFile);
    const log = ctx.log.child({ component: 'api-lps' });
    // One operator process: the API LPS and the submission rules share their resources, as
    // under `mss-sidecar serve`.
    const shared = new SharedResources(config, log);
    const service = apiLpsService.create(config, log, shared);
    if (!service || service instanceof Promise) throw new Error('the API LPS service did not build');
    await service.start();
    // The LPS's mail goes through the real submission rules, as in production.
    const rules = await openSubmission(config, log, shared);
    let mtas;
    try {
      mtas = await startLpsMtas(dir, {
        checkerUrl: `http://${host}:${checker}/v1/xoauth2`,
        certFile: ctx.pki.https.cert,
        keyFile: ctx.pki.https.key,
        dovecotLpsImap,
        submissionBackend,
        milterHandler: rules.handler,
        domains: op.domains,
        log,
      });
    } catch (err) {
      await service.stop();
      await rules.close();
      await shared.close();
      throw err;
    }
    const running = mtas;
    return {
      endpoints: { lps: { url: `imap://${host}:${imap}`, imap, submission, authCliImap, authCliSubmission, mailbox, holder: SANDBOX_HOLDER, appMailbox, config: configFile } },
      async stop() {
        await running.stop();
        await service.stop();
        await rules.close();
        await shared.close();
      },
    };
  },
};
