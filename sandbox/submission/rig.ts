// The submission rules of operator A for the self-check, run as `mss-sidecar serve` runs
// them (openSubmission: registry, verified liste blanche, journal, traces), twice — enforce
// and monitor mode — and reached the most realistic way this machine allows:
//   - through a real Postfix (the shipped pieces: STARTTLS, the milter) with Dovecot as its
//     SASL backend, when both are installed and we are root;
//   - otherwise through the milter protocol itself, by an in-process MTA-side client that
//     stops a transaction where Postfix would (src/milter/mta-client.ts).
// Either way the client sees what an LPS would be told at each step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { SharedResources } from '../../src/daemon/shared.js';
import type { Logger } from '../../src/log.js';
import { MilterServer } from '../../src/milter/server.js';
import { MilterClient, submitLikePostfix, type SmtpOutcome, type Transaction } from '../../src/milter/mta-client.js';
import { DovecotInstance } from '../mta/dovecot-instance.js';
import { PostfixInstance } from '../mta/postfix-instance.js';
import { mainPiecesForMilter, submissionListener } from '../mta/postfix-pieces.js';
import { SmtpClient, type RawReply } from '../mta/smtp-client.js';
import { submissionSection } from '../../src/submission/config.js';
import { openSubmission, type OpenedSubmission } from '../../src/submission/open.js';
import { freePorts } from '../../src/util/free-port.js';
import type { PkiManifest } from '../pki.js';
import { sandboxMailboxes, type SandboxMailboxes } from './mailboxes.js';

export interface SubmissionRig {
  /** How the checks reach the rules, for the report line. */
  transport: string;
  mailboxes: SandboxMailboxes;
  send(t: Transaction, mode?: 'enforce' | 'monitor'): Promise<SmtpOutcome>;
  /** Resolves once the rate limit (enforce mode) counts `messages` from `sender`; false after `timeoutMs`. */
  rateCounted(sender: string, messages: number, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Sandbox logins are accepted by Dovecot's static passdb with this password. */
const PASSWORD = 'sandbox';

function line(r: RawReply): string {
  return `${r.code} ${r.text}`;
}

function messageText(t: Transaction): string {
  const head = (t.headers ?? [['Subject', 'test']]).map(([n, v]) => `${n}: ${v}`).join('\r\n');
  const body = Buffer.isBuffer(t.body) ? t.body.toString('latin1') : (t.body ?? 'hello\r\n');
  return `${head}\r\n\r\n${body}`;
}

/** One transaction over SMTP: STARTTLS, AUTH PLAIN (unless login is ''), MAIL, RCPT, DATA. */
async function smtpSubmit(port: number, t: Transaction): Promise<SmtpOutcome> {
  const c = await SmtpClient.connect(port, '127.0.0.1', 10_000, { proxy: true });
  try {
    await c.command('EHLO lps.sandbox.test');
    await c.startTls({ servername: 'localhost' });
    await c.command('EHLO lps.sandbox.test');
    const login = t.login ?? t.sender;
    if (login) {
      const auth = await c.authPlain(login, PASSWORD);
      if (auth.code !== 235) return { mail: `AUTH ${line(auth)}`, rcpt: [] };
    }
    const mail = line(await c.command(`MAIL FROM:<${t.sender}>${(t.mailParams ?? []).map((p) => ` ${p}`).join('')}`));
    if (!mail.startsWith('2')) return { mail, rcpt: [] };
    const rcpt: string[] = [];
    for (const r of t.recipients) rcpt.push(line(await c.command(`RCPT TO:<${r}>`)));
    if (!rcpt.some((r) => r.startsWith('2'))) return { mail, rcpt };
    const [go, final] = await c.data(messageText(t));
    return { mail, rcpt, data: line(go.code === 354 ? final : go) };
  } finally {
    await c.quit();
  }
}

async function viaMilterProtocol(server: MilterServer, t: Transaction): Promise<SmtpOutcome> {
  const mta = await MilterClient.connect(server.port ?? 0);
  try {
    await mta.negotiate();
    return await submitLikePostfix(mta, t);
  } finally {
    await mta.quit();
  }
}

/** MSS_SANDBOX_MTA=none forces the in-process path (what a machine without Postfix gets). */
function postfixUsable(): boolean {
  if (process.env.MSS_SANDBOX_MTA === 'none') return false;
  return process.getuid?.() === 0 && PostfixInstance.available() && DovecotInstance.available();
}

export async function startSubmissionRig(base: Config, pki: PkiManifest, dir: string, log: Logger): Promise<SubmissionRig> {
  fs.mkdirSync(dir, { recursive: true });
  const mailboxes = sandboxMailboxes(base.operator.domains);
  const registryFile = path.join(dir, 'registry.yaml');
  fs.writeFileSync(registryFile, mailboxes.yaml);
  const configFor = (submission: Record<string, unknown>): Config => ({
    ...base,
    registry: { ...base.registry, file: registryFile },
    submission: submissionSection.parse(submission),
  });
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch((err: unknown) => log.error({ err }, 'submission self-check: clean-up failed'));
  };
  try {
    // The rate limit is set low for one sender (burst); the others are exempt so that the
    // other checks can send as many messages as they need.
    // Each mode as its own `serve` would run it: its resources built once, closed at the end.
    const open = async (config: Config): Promise<OpenedSubmission> => {
      const shared = new SharedResources(config, log);
      stops.push(() => shared.close());
      return openSubmission(config, log, shared);
    };
    const opened: Record<'enforce' | 'monitor', OpenedSubmission> = {
      enforce: await open(configFor({ rateLimit: { enabled: true, messages: 2, windowSeconds: 3600, exempt: [mailboxes.sender, mailboxes.test] } })),
      monitor: await open(configFor({ mode: 'monitor' })),
    };
    // The counter is written after the reply (not awaited): poll it rather than guess a delay.
    const rateCounted = async (sender: string, messages: number, timeoutMs: number): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while ((await opened.enforce.rateLimiter.messagesCounted(sender)) < messages) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    };
    const servers = {} as Record<'enforce' | 'monitor', MilterServer>;
    for (const mode of ['enforce', 'monitor'] as const) {
      stops.push(() => opened[mode].close());
      servers[mode] = new MilterServer({ listen: { kind: 'inet', host: '127.0.0.1', port: 0 }, handler: opened[mode].handler, log });
      await servers[mode].start();
      stops.push(() => servers[mode].stop(100));
    }
    if (!postfixUsable()) {
      return {
        transport: 'via the milter protocol (in-process MTA client; Postfix/Dovecot not usable here)',
        mailboxes,
        send: (t, mode = 'enforce') => viaMilterProtocol(servers[mode], t),
        rateCounted,
        stop,
      };
    }
    // Postfix and Dovecot drop root: their directories must be reachable by their users,
    // which a private sandbox directory (0700) is not.
    const mtaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-sandbox-mta-'));
    fs.chmodSync(mtaDir, 0o755);
    stops.push(async () => fs.rmSync(mtaDir, { recursive: true, force: true }));
    const dovecot = new DovecotInstance({
      dir: path.join(mtaDir, 'dovecot'),
      authConfig: ['auth_mechanisms = plain', 'passdb {', '  driver = static', `  args = password=${PASSWORD}`, '}'].join('\n'),
    });
    const ports = await freePorts(2);
    // The shipped submission service (clients send the fronts' PROXY header), with Postfix's
    // own SASL restrictions relaxed so that the milter's authentication rule is what decides
    // (in monitor mode, it only warns).
    const milterDecides = ['-o smtpd_relay_restrictions=permit_sasl_authenticated,permit_mynetworks,reject', '-o smtpd_recipient_restrictions='];
    const main = mainPiecesForMilter(servers.enforce.address);
    const postfix = new PostfixInstance({
      dir: path.join(mtaDir, 'postfix'),
      myhostname: 'mx.sandbox-a.test',
      services: [submissionListener(ports[0], milterDecides), submissionListener(ports[1], [...milterDecides, '-o smtpd_milters=$mss_sandbox_monitor_milter'])],
      virtualDomains: [...base.operator.domains],
      main: {
        ...main,
        mss_sandbox_monitor_milter: (main.mss_submission_milter ?? '').replace(servers.enforce.address, servers.monitor.address),
        mss_submission_tls_chain_files: `${pki.https.key} ${pki.https.cert}`,
        mss_submission_sasl_path: dovecot.authSocket,
        // Other operators' domains would go to the outbound gate; here they are accepted and dropped.
        default_transport: 'discard:outbound gate (sandbox)',
      },
    });
    await dovecot.start();
    stops.push(() => dovecot.stop());
    stops.push(() => postfix.stop());
    await postfix.start();
    const version = (postfix.maillog().match(/daemon started -- version ([0-9.]+)/) ?? [])[1] ?? '';
    return {
      transport: `through Postfix ${version} with the milter (shipped pieces)`,
      mailboxes,
      send: (t, mode = 'enforce') => smtpSubmit(mode === 'enforce' ? ports[0] : ports[1], t),
      rateCounted,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
