// The whole API LPS on loopback, with the shipped configuration: a sandbox PSC, the
// mss-sidecar checker endpoint over an in-memory registry, a real Dovecot 2.3 running
// dovecot/conf.d/90-mss-lps.conf with the Lua passdb, a real Postfix 3.7 running the
// pieces of postfix/ (the submission service through Dovecot SASL, with a milter recording
// what it saw), and the fronts in front of both (the IMAP relay and the TLS-terminating
// submission front). The operator's mail servers are the sandbox's (sandbox/operator-mtas.ts):
// the shipped files as they are, with only their site-specific paths and ports replaced.
import path from 'node:path';
import { buildChecker, type BuiltChecker } from '../../src/auth/build-checker.js';
import type { MailboxAccess } from '../../src/auth/ports.js';
import { authSection, type SessionLimits } from '../../src/auth/config.js';
import { buildAuthCliFronts, type AuthCliFronts } from '../../src/auth/authcli/build.js';
import { CheckerEndpoint } from '../../src/auth/endpoint.js';
import { BackendTlsClient } from '../../src/auth/front/backend-tls.js';
import { pscImapFront, pscSubmissionFront } from '../../src/auth/front/service.js';
import { entryPointTlsContext } from '../../src/auth/front/tls-context.js';
import type { TlsFront } from '../../src/auth/front/tls-front.js';
import { LoginRouter } from '../../src/auth/login-router.js';
import { FrontOnlyChecker } from '../../src/auth/front-only.js';
import { PasswordLogins } from '../../src/auth/password-login.js';
import { TicketChecker } from '../../src/auth/ticket-checker.js';
import { TicketBook } from '../../src/auth/tickets.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { DovecotInstance } from '../../sandbox/mta/dovecot-instance.js';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import type { MilterHandler } from '../../src/milter/handler.js';
import { MilterServer } from '../../src/milter/server.js';
import { SUBMISSION_SERVICE } from '../../sandbox/mta/postfix-pieces.js';
import { startOperatorMtas, type OperatorMtaOptions, type OperatorMtas } from '../../sandbox/operator-mtas.js';
import { captureLogger } from './log.js';
import { MemoryMailboxAccess } from './mailbox-access.js';
import { freePorts } from './ports.js';
import { selfSignedCert, type TestCert } from './tls-cert.js';

export interface LpsStack {
  psc: SandboxPsc;
  access: MemoryMailboxAccess;
  checker: BuiltChecker;
  endpoint: CheckerEndpoint;
  dovecot: DovecotInstance;
  postfix: PostfixInstance;
  /** Public ports of the fronts (what an LPS connects to). */
  imapPort: number;
  /** Dovecot's loopback LPS listener behind the IMAP front (PROXY protocol). */
  dovecotLpsImapPort: number;
  submissionPort: number;
  /** The submission front's STARTTLS towards Postfix: its handshakes, and how many resumed its TLS session. */
  submissionBackendTls: BackendTlsClient;
  /** Postfix's loopback submission service behind the submission front (PROXY protocol; 687 as shipped). */
  postfixSubmissionPort: number;
  cert: TestCert;
  /** What the submission milter saw of each message sent through the LPS service. */
  submissions: MilterSeen[];
  tickets: TicketBook;
  /** What the checker, the endpoint and the fronts logged (debug level included). */
  logLines: string[];
  /** AUTH-CLI fronts (EX_LPS_1200) before the same Dovecot and Postfix, trusting a test IGC-Santé PKI. */
  authCliFronts(pki: PkiManifest, limits: SessionLimits): Promise<{ imapPort: number; submissionPort: number; fronts: AuthCliFronts }>;
  /** Add fronts with other limits in front of the same Dovecot and Postfix. */
  fronts(limits: SessionLimits): Promise<{ imapPort: number; submissionPort: number; imap: TlsFront; submission: TlsFront; submissionTls: BackendTlsClient }>;
  stop(): Promise<void>;
}

export { SUBMISSION_SERVICE };
export type LpsMtas = OperatorMtas;

export interface MilterSeen {
  authType: string | undefined;
  login: string | undefined;
  sender: string;
}

function recordingHandler(seen: MilterSeen[]): MilterHandler {
  return {
    addsHeaders: false,
    mail(ctx, sender) {
      seen.push({ authType: ctx.macros.get('auth_type'), login: ctx.macros.get('auth_authen'), sender: sender.address });
    },
  };
}

/** An operator's real Dovecot and Postfix (the sandbox's), for tests: fast refusals, a recording milter. */
export async function startLpsMtas(
  root: string,
  opts: {
    checkerUrl: string;
    cert: TestCert;
    dovecotLpsImap: number;
    submissionBackend: number;
    submissions: MilterSeen[];
    dovecotExtraConfig?: string;
    debianDovecot?: OperatorMtaOptions['debianDovecot'];
  },
): Promise<LpsMtas> {
  const log = captureLogger('info').log;
  const [lmtp, milterPort] = await freePorts(2);
  const milter = new MilterServer({ listen: { kind: 'inet', host: '127.0.0.1', port: milterPort }, handler: recordingHandler(opts.submissions), log });
  await milter.start();
  try {
    const mtas = await startOperatorMtas({
      dir: root,
      myhostname: 'mx.ch-exemple.test',
      domains: ['ch-exemple.mssante.fr'],
      ports: { submission: opts.submissionBackend, milter: milterPort, lpsImap: opts.dovecotLpsImap, lmtp },
      // No outbound gate here: mail for other domains waits in Postfix's queue.
      gateOutSocket: path.join(root, 'run', 'gate-out.sock'),
      checkerUrl: opts.checkerUrl,
      tls: { certFile: opts.cert.certFile, keyFile: opts.cert.keyFile },
      fastFailures: true,
      ...(opts.dovecotExtraConfig ? { dovecotExtraConfig: opts.dovecotExtraConfig } : {}),
      ...(opts.debianDovecot ? { debianDovecot: opts.debianDovecot } : {}),
    });
    return {
      ...mtas,
      async stop() {
        await mtas.stop();
        await milter.stop(100);
      },
    };
  } catch (err) {
    await milter.stop(100);
    throw err;
  }
}

/**
 * Start the stack under `root` (a tmpDir created at the top level of the test file, so that
 * its cleanup hook belongs to the file). The caller stops it in its own `after` hook.
 */
export async function startLpsStack(
  root: string,
  opts: {
    limits?: SessionLimits;
    jwksCooldownSeconds?: number;
    /** Who decides and records logins (default: `access`, in memory). */ mailboxAccess?: MailboxAccess;
    dovecotExtraConfig?: string;
    debianDovecot?: OperatorMtaOptions['debianDovecot'];
  } = {},
): Promise<LpsStack> {
  const cert = selfSignedCert(root);
  const [dovecotLpsImap, submissionBackend, checkerPort] = await freePorts(3);
  const submissions: MilterSeen[] = [];
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => {});
  };

  try {
    const psc = new SandboxPsc({ tls: cert });
    await psc.start();
    stoppers.push(() => psc.stop());

    const access = new MemoryMailboxAccess();
    const decider = opts.mailboxAccess ?? access;
    const cfg = authSection.parse({
      psc: { issuer: psc.issuer, caFile: cert.certFile, audience: psc.clientId, jwksCooldownSeconds: opts.jwksCooldownSeconds ?? 30 },
    });
    // Every mss-sidecar part logs at debug level into one list, where tests look for tokens.
    const { log, lines: logLines } = captureLogger('debug');
    const checker = buildChecker(cfg.psc, { access: decider, log });
    // One endpoint for both kinds of login, as in production: PSC tokens and the fronts' tickets.
    const tickets = new TicketBook();
    // As in `serve` with the fronts on: Dovecot and Postfix accept the fronts' tickets, not raw PSC tokens.
    const router = new LoginRouter(new FrontOnlyChecker(decider, log), new TicketChecker(tickets, decider, log));
    const endpoint = new CheckerEndpoint(router, { host: '127.0.0.1', port: checkerPort }, log, new PasswordLogins(decider, log));
    await endpoint.start();
    stoppers.push(() => endpoint.stop());

    const mtas = await startLpsMtas(root, {
      checkerUrl: endpoint.url,
      cert,
      dovecotLpsImap,
      submissionBackend,
      submissions,
      ...(opts.dovecotExtraConfig ? { dovecotExtraConfig: opts.dovecotExtraConfig } : {}),
      ...(opts.debianDovecot ? { debianDovecot: opts.debianDovecot } : {}),
    });
    stoppers.push(() => mtas.stop());
    const { dovecot, postfix } = mtas;

    const addFronts = async (limits: SessionLimits) => {
      const common = {
        listen: { host: '127.0.0.1', port: 0 },
        serverContext: entryPointTlsContext({ certificate: cert.certFile, key: cert.keyFile }, 'auth.front'),
        limits,
        maxTokenBytes: cfg.psc.maxTokenBytes,
        psc: checker.checker,
        tickets,
        log,
      };
      const imap = pscImapFront({ ...common, backend: { host: '127.0.0.1', port: dovecotLpsImap } });
      const submissionTls = new BackendTlsClient();
      const submission = pscSubmissionFront({ ...common, backend: { host: '127.0.0.1', port: submissionBackend }, backendTls: submissionTls });
      await imap.start();
      stoppers.push(() => imap.stop());
      await submission.start();
      stoppers.push(() => submission.stop());
      return { imapPort: imap.port, submissionPort: submission.port, imap, submission, submissionTls };
    };
    const main_ = await addFronts(opts.limits ?? cfg.sessions);

    const addAuthCliFronts = async (pki: PkiManifest, limits: SessionLimits) => {
      const { authCli } = authSection.parse({
        psc: { audience: psc.clientId },
        authCli: {
          enabled: true,
          imap: { listen: { host: '127.0.0.1', port: 0 }, backend: { port: dovecotLpsImap } },
          submission: { listen: { host: '127.0.0.1', port: 0 }, backend: { port: submissionBackend } },
          certificate: cert.certFile,
          key: cert.keyFile,
        },
      });
      if (!authCli) throw new Error('auth.authCli did not parse');
      const fronts = await buildAuthCliFronts(authCli, { dir: pki.trustDir, crlDir: pki.crlDir }, limits, { access, tickets, log });
      await fronts.start();
      stoppers.push(() => fronts.stop());
      return { imapPort: fronts.imap.port, submissionPort: fronts.submission.port, fronts };
    };
    return {
      psc,
      access,
      checker,
      tickets,
      logLines,
      endpoint,
      dovecot,
      postfix,
      imapPort: main_.imapPort,
      dovecotLpsImapPort: dovecotLpsImap,
      submissionPort: main_.submissionPort,
      submissionBackendTls: main_.submissionTls,
      postfixSubmissionPort: submissionBackend,
      cert,
      submissions,
      fronts: addFronts,
      authCliFronts: addAuthCliFronts,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

let nextAddress = 0;
/**
 * A fresh loopback source address per connection (Dovecot's auth penalty is per address);
 * the second octet depends on the process, as test files run in parallel.
 */
export function freshLoopback(): string {
  const n = nextAddress++;
  return `127.${(process.pid % 200) + 20}.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}
