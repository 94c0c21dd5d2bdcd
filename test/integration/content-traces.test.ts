// Content-operation traces through a real Dovecot 2.3 (EX_GDT_5030, EX_GDT_5040, §6.9.2): the
// API LPS stack with the shipped dovecot/conf.d/91-mss-mail-log.conf, the checker recording
// logins through the registry (Activity, with Dovecot's session), and the `dovecot-events`
// receiver writing the traces. A delegate logs in to the holder's mailbox over the IMAP
// front, appends, flags, copies, moves, expunges, reads, creates and renames a folder, logs
// out: every operation is one trace naming the delegate and the holder, in the hash chain.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { RegistryMailboxAccess } from '../../src/auth/registry-access.js';
import { Activity } from '../../src/registry/activity.js';
import { loadRegistryText } from '../../src/registry/load.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { DovecotEventsService } from '../../src/traces/dovecot-events-service.js';
import { DovecotSessions } from '../../src/traces/dovecot-sessions.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { silentLogger } from '../../src/log.js';
import { imapXoauth2Login, type LineConnection } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsStack, type LpsStack } from '../helpers/lps-stack.js';
import { tmpDir } from '../helpers/tmp.js';
import { dovecotEventsPiece } from '../helpers/dovecot-events-piece.js';
import { freePort } from '../helpers/ports.js';
import { traceLines } from '../helpers/traces.js';
import { operatorMtasMissing } from '../../sandbox/operator-mtas.js';

const DOMAIN = 'ch-exemple.mssante.fr';
const BAL = `jean.dupond@${DOMAIN}`;
const HOLDER = '810000000001';
const DELEGATE = '810000000002';
const REGISTRY = `version: 1
mailboxes:
  - { address: reponse.automatique-test@${DOMAIN}, type: APP, created: 2024-01-02, test: true, structure: { type: FINESS, id: "130000001" }, responsible: { name: SI }, description: Réponse automatique }
  - address: ${BAL}
    type: PER
    created: 2024-01-02
    holder: { idNat: "${HOLDER}", lastName: DUPOND, firstName: Jean }
    structure: { type: FINESS, id: "130000001" }
    delegates: [{ idNat: "${DELEGATE}", for: "${HOLDER}" }]
`;

const missing = operatorMtasMissing();
const root = tmpDir('mss-content-traces-');
const tracesDir = path.join(root, 'traces');
let stack: LpsStack | undefined;
let receiver: DovecotEventsService | undefined;
let store: EmbeddedStore | undefined;
let traces: TraceLog | undefined;

before(async () => {
  if (missing.length > 0) return;
  store = new EmbeddedStore(path.join(root, 'store'));
  traces = new TraceLog(tracesDir, { syncDelayMs: 0 });
  const registry = loadRegistryText(path.join(root, 'registry.yaml'), REGISTRY, { domains: [DOMAIN], finessRegistered: true }).registry;
  const activity = new Activity({
    registry: () => registry,
    runtime: new RuntimeFields(store),
    traces,
    timeZone: 'Europe/Paris',
    sessions: new DovecotSessions(store),
  });
  const eventsPort = await freePort();
  receiver = new DovecotEventsService({
    listen: { host: '127.0.0.1', port: eventsPort },
    urlFile: path.join(root, 'dovecot-events.url'),
    maxEventBytes: 65_536,
    traces,
    sessions: new DovecotSessions(store),
    log: silentLogger,
  });
  await receiver.start();
  // The shipped piece as it is, with the test's URL file, port and checkout (its spool writer).
  const conf = dovecotEventsPiece(root, { urlFile: path.join(root, 'dovecot-events.url'), port: eventsPort });
  stack = await startLpsStack(root, { mailboxAccess: new RegistryMailboxAccess(() => registry, activity, traces), dovecotExtraConfig: `!include ${conf}` });
});
after(async () => {
  await stack?.stop();
  await receiver?.stop();
  traces?.close();
  await store?.close();
});

async function command(c: LineConnection, tag: string, line: string): Promise<string> {
  c.send(`${tag} ${line}`);
  return (await c.expect(new RegExp(`^${tag} `))).line;
}

test(
  "EX_GDT_5030 EX_GDT_5040: a delegate's IMAP operations on the holder's mailbox, through real Dovecot, are each traced with the delegate, the holder, the folder, the UIDs and the answer; the logout too; the chain verifies",
  { skip: missing.length > 0 && `needs ${missing.join(', ')}` },
  async () => {
    const s = stack as LpsStack;
    const login = await imapXoauth2Login(s.imapPort, BAL, await s.psc.mint({ idNat: DELEGATE }), { localAddress: freshLoopback(), keepOpen: true });
    assert.equal(login.verdict, 'OK', login.line);
    const c = login.connection as LineConnection;
    const message = 'From: a@ch-voisin.mssante.fr\r\nSubject: CR patient\r\nMessage-ID: <m1@x>\r\n\r\ncorps\r\n';
    c.send(`b1 APPEND INBOX {${Buffer.byteLength(message)}}`);
    await c.expect(/^\+ /);
    c.send(message);
    assert.match((await c.expect(/^b1 /)).line, /^b1 OK \[APPENDUID \d+ 1\]/);
    assert.match(await command(c, 'b2', 'SELECT INBOX'), /^b2 OK/);
    assert.match(await command(c, 'b3', 'UID STORE 1 +FLAGS (\\Flagged)'), /^b3 OK/);
    assert.match(await command(c, 'b4', 'CREATE Archives'), /^b4 OK/);
    assert.match(await command(c, 'b5', 'UID COPY 1 Archives'), /^b5 OK \[COPYUID/);
    assert.match(await command(c, 'b6', 'UID FETCH 1 (BODY.PEEK[])'), /^b6 OK/);
    assert.match(await command(c, 'b7', 'UID STORE 1 +FLAGS (\\Deleted)'), /^b7 OK/);
    assert.match(await command(c, 'b8', 'EXPUNGE'), /^b8 OK/);
    assert.match(await command(c, 'b9', 'RENAME Archives Classement'), /^b9 OK/);
    assert.match(await command(c, 'b10', 'LOGOUT'), /^b10 OK/);
    c.destroy();

    // Dovecot's stats process posts each event asynchronously and not necessarily in order (the
    // logout may arrive before an earlier operation's event), and the checker records the login
    // after answering Dovecot: wait until every expected trace is there, not only the logout.
    const expected = [
      'content.append',
      'content.flags',
      'folder.create',
      'content.copy',
      'content.read',
      'content.expunge',
      'content.expunged',
      'folder.rename',
      'logout',
    ];
    const deadline = Date.now() + 60_000;
    const complete = (ls: ReturnType<typeof traceLines>): boolean =>
      ls.some((l) => l.action === 'login') && expected.every((a) => ls.some((l) => l.action === a));
    let lines = traceLines(tracesDir);
    while (!complete(lines) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      lines = traceLines(tracesDir);
    }
    const content = lines.filter((l) => /^(content|folder)\.|^logout$/.test(l.action));
    const actions = content.map((l) => l.action);
    for (const a of expected) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    for (const l of content) {
      assert.equal(l.bal, BAL);
      assert.deepEqual(l.actor, { id: DELEGATE, kind: 'user', onBehalfOf: HOLDER, source: 'dovecot session' }, l.action);
      assert.equal(l.category, 'functional');
    }
    const login_ = lines.find((l) => l.action === 'login' && l.response.ok);
    assert.equal(content[0]?.request?.session, login_?.request?.session, 'the session joins the login and the operations');
    const copy = content.find((l) => l.action === 'content.copy');
    assert.deepEqual([copy?.request?.mailbox, copy?.request?.uids, copy?.request?.sourceUids], ['INBOX', '1', '1']);
    const expunged = content.find((l) => l.action === 'content.expunged');
    assert.deepEqual([expunged?.request?.mailbox, expunged?.request?.uid], ['INBOX', 1]);
    assert.deepEqual(
      [content.find((l) => l.action === 'folder.rename')?.request?.from, content.find((l) => l.action === 'folder.rename')?.request?.to],
      ['Archives', 'Classement'],
    );
    assert.doesNotMatch(JSON.stringify(content), /corps|CR patient/, 'the message is never traced');
    (traces as TraceLog).close();
    const v = await verifyTraces(tracesDir);
    assert.equal(v.ok, true, JSON.stringify(v.problems ?? v));
  },
);
