// A submission service as shipped, on loopback, for the integration tests of the sending
// rules: Postfix with the pieces of postfix/ (STARTTLS required, the six suites, the
// milter, the size limit), Dovecot as its SASL backend (static passdb, PLAIN: the XOAUTH2
// path is the authentication part's), and the milter running the real submission rules
// in this process, so a test sees the SMTP replies, the journal, the traces and the logs.
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import { Journal } from '../../src/journal/journal.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { MilterServer } from '../../src/milter/server.js';
import { DovecotInstance } from '../../sandbox/mta/dovecot-instance.js';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { canonicalDn } from '../../src/pki/dn.js';
import { loadRegistry } from '../../src/registry/load.js';
import type { Registry } from '../../src/registry/registry.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import type { StateStore } from '../../src/store/store.js';
import { submissionSection, type SubmissionConfig } from '../../src/submission/config.js';
import { submissionHandler } from '../../src/submission/handler.js';
import { MessageRecorder } from '../../src/submission/record.js';
import { RateLimiter } from '../../src/submission/rules/rate-limit.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { WhitelistIndex } from '../../src/whitelist/whitelist-index.js';
import { testPki } from './pki.js';
import { freePorts } from './ports.js';
import { mainPiecesForMilter, submissionListener } from './postfix-pieces.js';
import { AUTOREPLY, DOMAIN, LOAD, org, per, writeRegistry } from './registry.js';
import { SmtpClient } from './smtp-client.js';
import { tmpDir } from './tmp.js';
import { traceLines, type TraceLine } from './traces.js';

export { DOMAIN };
export const PASSWORD = 'secret';

/** Mailboxes of the test registry, by role in the tests. */
export const BAL = {
  alice: `alice.martin@${DOMAIN}`,
  bob: `bob.durand@${DOMAIN}`,
  suspended: `claire.petit@${DOMAIN}`,
  deleted: `denis.moreau@${DOMAIN}`,
  test: `labo-test@${DOMAIN}`,
  app: `dpi@${DOMAIN}`,
  autoreply: AUTOREPLY.address,
};

/** Other operators' domains in the test liste blanche. */
export const LISTED = ['autre.mssante.fr', 'interop-mssante.apicrypt.org', 'dgs.mssante.fr', 'patient.mssante.fr'];

export function testMailboxes(): Array<Record<string, unknown>> {
  return [
    per('alice.martin', 'Alice', 'Martin', '810000000001'),
    per('bob.durand', 'Bob', 'Durand', '810000000002', { delegates: [{ idNat: '810000000009', for: '810000000002' }] }),
    per('claire.petit', 'Claire', 'Petit', '810000000003', { status: 'suspended', suspension: { at: '2025-04-01', reason: 'compromission suspectee' } }),
    per('denis.moreau', 'Denis', 'Moreau', '810000000004', { status: 'deleted', deletion: { at: '2025-05-01' } }),
    org('labo-test', { test: true, description: 'Boite de test du laboratoire' }),
    {
      address: `dpi@${DOMAIN}`,
      type: 'APP',
      created: '2023-01-01',
      structure: { type: 'FINESS', id: '130000001' },
      responsible: { name: 'DSI' },
      description: 'Dossier patient informatise',
    },
  ];
}

export function listIndex(domains: readonly string[] = LISTED): WhitelistIndex {
  const dn = 'CN=mss.autre.test,OU=10000000000,O=AUTRE,ST=Paris (75),C=FR';
  const now = new Date();
  return new WhitelistIndex({
    generated: now.toISOString(),
    generatedAt: now.getTime(),
    entries: domains.map((domain) => ({ domain, description: domain, dn, dnCanonical: canonicalDn(dn), dateMaj: new Date().toISOString() })),
    skipped: [],
  });
}

export interface RigOptions {
  submission?: Record<string, unknown>;
  mailboxes?: Array<Record<string, unknown>>;
  /**
   * Further domains this operator manages besides DOMAIN: the registry's, the rules' "our
   * domain" and Postfix's virtual domains. Each needs its auto-reply test mailbox in `mailboxes`.
   */
  domains?: string[];
  /** Replace the store the journal and rate limit use. */
  store?: (real: StateStore) => StateStore;
}

export interface Rig {
  smtpPort: number;
  postfix: PostfixInstance;
  milter: MilterServer;
  registry: Registry;
  config: SubmissionConfig;
  store: StateStore;
  tracesDir: string;
  /** JSON log lines of the milter and rules, in order. */
  logs: Array<Record<string, unknown>>;
  events(): Promise<JournalEvent[]>;
  traces(): TraceLine[];
  /** An SMTP session after EHLO, STARTTLS, EHLO and AUTH PLAIN as `user` (no AUTH when undefined). */
  session(user: string | undefined): Promise<SmtpClient>;
  stop(): Promise<void>;
}

function captureLogger(lines: Array<Record<string, unknown>>): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const root = tmpDir('mss-submission-');
  const [milterPort, smtpPort] = await freePorts(2);
  const logs: Array<Record<string, unknown>> = [];
  const log = captureLogger(logs);
  const domains = [DOMAIN, ...(opts.domains ?? [])];
  const registry = loadRegistry(writeRegistry(root, opts.mailboxes ?? testMailboxes()), { ...LOAD, domains });
  const config = submissionSection.parse(opts.submission ?? {});
  const realStore = new EmbeddedStore(path.join(root, 'store'));
  const store = opts.store ? opts.store(realStore) : realStore;
  const tracesDir = path.join(root, 'traces');
  const traces = new TraceLog(tracesDir, { syncDelayMs: 0 });
  const list = listIndex();
  const journal = new Journal(store);
  const rules = submissionHandler({
    config,
    registry: () => registry,
    space: { isOurDomain: (d) => domains.includes(d), list: () => list },
    recorder: new MessageRecorder(journal, traces, log),
    rateLimiter: new RateLimiter(config.rateLimit, store, log),
    log,
  });
  const milter = new MilterServer({ listen: { kind: 'inet', host: '127.0.0.1', port: milterPort }, handler: rules, log });
  let mta: SubmissionMta | undefined;
  const stop = async (): Promise<void> => {
    await mta?.stop();
    await milter.stop(100);
    traces.close();
    await store.close();
  };
  try {
    await milter.start();
    mta = await startSubmissionMta(root, milterPort, smtpPort, domains);
  } catch (err) {
    await stop();
    throw err;
  }
  const started = mta;
  return {
    smtpPort,
    postfix: started.postfix,
    milter,
    registry,
    config,
    store,
    tracesDir,
    logs,
    async events() {
      const out: JournalEvent[] = [];
      for await (const e of journal.read({ from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) })) out.push(e);
      return out;
    },
    traces: () => traceLines(tracesDir).filter((t) => t.action === 'message.submit'),
    session: (user) => started.session(user),
    stop,
  };
}

export interface SubmissionMta {
  postfix: PostfixInstance;
  dovecot: DovecotInstance;
  /** An SMTP session after EHLO, STARTTLS, EHLO and AUTH PLAIN as `user` (no AUTH when undefined). */
  session(user: string | undefined): Promise<SmtpClient>;
  stop(): Promise<void>;
}

/**
 * Postfix's own SASL restrictions on the shipped submission service are relaxed here, so an
 * unauthenticated session reaches the milter, whose authentication rule is under test (in
 * production both refuse it).
 */
export const MILTER_DECIDES = ['-o smtpd_relay_restrictions=permit_sasl_authenticated,permit_mynetworks,reject', '-o smtpd_recipient_restrictions='];

/**
 * Postfix with the shipped submission pieces on `smtpPort` (clients send the fronts' PROXY
 * header), its milter at `milterPort`, and Dovecot as its SASL backend (any login, password
 * PASSWORD), under `root`; `domains` are its virtual domains.
 */
export async function startSubmissionMta(root: string, milterPort: number, smtpPort: number, domains: string[] = [DOMAIN]): Promise<SubmissionMta> {
  const pki = await testPki();
  const dovecot = new DovecotInstance({ dir: path.join(root, 'dovecot') });
  const postfix = new PostfixInstance({
    dir: path.join(root, 'postfix'),
    myhostname: 'mx.ch-test.test',
    services: [submissionListener(smtpPort, MILTER_DECIDES)],
    virtualDomains: domains,
    main: {
      ...mainPiecesForMilter(`inet:127.0.0.1:${milterPort}`),
      mss_submission_tls_chain_files: `${pki.https.key} ${pki.https.cert}`,
      mss_submission_sasl_path: dovecot.authSocket,
      // Other operators' domains would go to the outbound gate; here they are accepted and dropped.
      default_transport: 'discard:outbound gate (not in this test)',
    },
  });
  const stop = async (): Promise<void> => {
    await postfix.stop();
    await dovecot.stop();
  };
  try {
    await dovecot.start();
    await postfix.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    postfix,
    dovecot,
    async session(user) {
      const c = await SmtpClient.connect(smtpPort, '127.0.0.1', 10_000, { proxy: true });
      if (c.greeting.code !== 220) throw new Error(`greeting ${c.greeting.code} ${c.greeting.text}; maillog:\n${postfix.maillog().slice(-2000)}`);
      await c.command('EHLO lps.ch-test.test');
      await c.startTls({ servername: 'localhost' });
      await c.command('EHLO lps.ch-test.test');
      if (user !== undefined) {
        const r = await c.authPlain(user, PASSWORD);
        if (r.code !== 235) throw new Error(`AUTH PLAIN ${user}: ${r.code} ${r.text}`);
      }
      return c;
    },
    stop,
  };
}

/** The queue id of a "250 2.0.0 Ok: queued as X" reply. */
export function queuedId(text: string): string | undefined {
  return /queued as ([0-9A-Za-z]+)/.exec(text)?.[1];
}

/** Lines of the rules' log whose message matches. */
export function logged(rig: Rig, pattern: RegExp): Array<Record<string, unknown>> {
  return rig.logs.filter((l) => pattern.test(String(l.msg ?? '')));
}
