import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { dovecotEventSchema, traceOfDovecotEvent, type DovecotEvent, type SessionIdentity } from '../../src/traces/dovecot-events.js';
import { silentLogger } from '../../src/log.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { DovecotEventsService } from '../../src/traces/dovecot-events-service.js';
import { DovecotSessions } from '../../src/traces/dovecot-sessions.js';
import { DovecotEventsSpoolWriter } from '../../src/traces/dovecot-events-spool.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

/** Events as Dovecot 2.3.19.1 (Debian 12) exported them for one IMAP session (test/fixtures/dovecot/README.md). */
const EVENTS: DovecotEvent[] = fs
  .readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'dovecot', 'events-2.3.19.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => dovecotEventSchema.parse(JSON.parse(l)));
const DELEGATE: SessionIdentity = { identity: '810000000555', kind: 'user', delegateOf: '810000000101', authType: 'PSC/XOAUTH2', client: 'Thunderbird 128' };

const find = (event: string, cmd?: string) => EVENTS.find((e) => e.event === event && (cmd === undefined || e.fields.cmd_name === cmd)) as DovecotEvent;

test("EX_GDT_5030, EX_GDT_5040: each operation on a mailbox's content becomes a trace — user, folder, operation, message UIDs, request and answer, address, and who acted (the delegate, for the holder)", () => {
  const copy = traceOfDovecotEvent(find('imap_command_finished', 'UID COPY'), DELEGATE);
  assert.deepEqual(copy?.actor, { id: '810000000555', kind: 'user', onBehalfOf: '810000000101', source: 'dovecot session' });
  assert.equal(copy?.action, 'content.copy');
  assert.equal(copy?.bal, 'jean@x.mssante.fr');
  assert.deepEqual(copy?.means, { service: 'imap', authType: 'PSC/XOAUTH2', client: 'Thunderbird 128' });
  assert.equal(copy?.address, '127.0.0.1');
  assert.deepEqual(
    { ...copy?.request, at: undefined },
    {
      at: undefined,
      session: copy?.request?.session,
      command: 'UID COPY',
      args: '1 A',
      mailbox: 'INBOX',
      uids: '1',
      uidValidity: 1796546436,
      sourceUids: '1',
      destinationUids: '1',
    },
  );
  assert.deepEqual(copy?.response, { ok: true, message: 'OK [COPYUID 1796546436 1 1] Copy completed.' });
  const append = traceOfDovecotEvent(find('imap_command_finished', 'APPEND'), DELEGATE);
  assert.deepEqual(
    [append?.action, append?.request?.args, append?.request?.uids, append?.request?.uidValidity],
    ['content.append', 'INBOX <61 byte literal>', '1', 1796546435],
  );
  assert.equal(traceOfDovecotEvent(find('imap_command_finished', 'UID STORE'), DELEGATE)?.action, 'content.flags');
  assert.equal(traceOfDovecotEvent(find('imap_command_finished', 'UID MOVE'), DELEGATE)?.action, 'content.move');
  assert.equal(traceOfDovecotEvent(find('imap_command_finished', 'CLOSE'), DELEGATE)?.action, 'content.expunge');
  assert.equal(traceOfDovecotEvent(find('imap_command_finished', 'CREATE'), DELEGATE)?.action, 'folder.create');
  const expunged = traceOfDovecotEvent(find('mail_expunged'), DELEGATE);
  assert.deepEqual(
    [expunged?.action, expunged?.request?.mailbox, expunged?.request?.uid, expunged?.request?.command],
    ['content.expunged', 'INBOX', 1, 'UID MOVE'],
  );
});

test('§6.9.2 « connexion et déconnexion »: the end of the IMAP session is the logout trace; a FETCH of flags is not an operation, a FETCH of a body is a read', () => {
  assert.equal(traceOfDovecotEvent(find('mail_user_session_finished'), DELEGATE)?.action, 'logout');
  const fetches = EVENTS.filter((e) => e.fields.cmd_name === 'UID FETCH').map((e) => traceOfDovecotEvent(e, DELEGATE)?.action);
  assert.deepEqual(fetches.sort(), ['content.read', undefined]);
});

test("EX_GDT_5040: without a login recorded for the session, the trace names Dovecot's user and says so; a refused command keeps its answer; nothing of the message is traced", () => {
  const t = traceOfDovecotEvent(find('imap_command_finished', 'APPEND'), undefined);
  assert.deepEqual(t?.actor, { id: 'jean@x.mssante.fr', kind: 'user', source: 'dovecot user (no login recorded for this session)' });
  const no = traceOfDovecotEvent(
    {
      ...find('imap_command_finished', 'CREATE'),
      fields: { ...find('imap_command_finished', 'CREATE').fields, tagged_reply_state: 'NO', tagged_reply: 'NO [ALREADYEXISTS] Mailbox already exists' },
    },
    DELEGATE,
  );
  assert.deepEqual(no?.response, { ok: false, code: 'NO', message: 'NO [ALREADYEXISTS] Mailbox already exists' });
  assert.doesNotMatch(JSON.stringify(EVENTS.map((e) => traceOfDovecotEvent(e, DELEGATE))), /body|Subject|Hello/);
  assert.throws(() => dovecotEventSchema.parse({ event: 'x'.repeat(200), fields: {} }));
});

test("EX_GDT_5030: the Dovecot events' door — the spool's writer (run by Dovecot's master) spools only the requests carrying the key of serve's URL file (another local process cannot write traces), bounded bodies, one JSON object per line; serve traces what is spooled; the URL file has no line end and keeps its key across restarts", async () => {
  const dir = tmpDir('mss-dovecot-events-');
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0 });
  const urlFile = path.join(dir, 'dovecot-events.url');
  const reports: string[] = [];
  const make = (port: number) =>
    new DovecotEventsService({
      listen: { host: '127.0.0.1', port },
      urlFile,
      maxEventBytes: 4096,
      traces,
      sessions: new DovecotSessions(store, 0),
      log: silentLogger,
      pollMs: 50,
    });
  const writer = new DovecotEventsSpoolWriter({ urlFile, maxEventBytes: 4096, report: (l) => reports.push(l) });
  const port = (await writer.listen({ host: '127.0.0.1', port: 0 })) as number;
  const service = make(port);
  await service.start();
  try {
    const url = fs.readFileSync(urlFile, 'utf8');
    assert.equal(url, service.url);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/dovecot-events\/[A-Za-z0-9_-]{32}$/, 'no line end: Dovecot 2.3 stops on a URL it cannot parse');
    assert.equal(fs.statSync(urlFile).mode & 0o777, 0o640);
    const post = (to: string, body: string) => fetch(to, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const event = JSON.stringify(find('imap_command_finished', 'APPEND'));
    assert.equal(
      (
        await post(
          url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
          event,
        )
      ).status,
      404,
      'wrong key',
    );
    assert.equal((await post(url.replace(/\/[^/]+$/, '/'), event)).status, 404, 'no key');
    assert.equal((await fetch(url)).status, 404, 'GET');
    assert.equal((await post(url, 'x'.repeat(5000))).status, 413);
    assert.equal((await post(url, '{"not":"an event"}\n{"event":"forged","fields":{}}')).status, 400, 'one object, one line');
    assert.equal((await post(url, '[1]')).status, 400);
    assert.deepEqual(writer.counts, { spooled: 0, refused: 6 });
    assert.match(reports[0] ?? '', /^DOVECOT_EVENT_REFUSED: /, "Dovecot's log names the refusal (one line a second at most)");
    assert.equal((await post(url, event)).status, 200);
    assert.equal((await post(url, JSON.stringify(find('imap_command_finished', 'UID FETCH')))).status, 200);
    assert.equal((await post(url, '{"not":"an event"}')).status, 200, 'the writer checks the form, serve the content');
    assert.deepEqual(writer.counts, { spooled: 3, refused: 6 });
    const deadline = Date.now() + 10_000;
    while (service.counts.traced + service.counts.ignored + service.counts.refused < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(service.counts, { traced: 1, refused: 1, ignored: 1 });
    assert.deepEqual(
      traceLines(path.join(dir, 'traces')).map((l) => l.action),
      ['content.append'],
    );
    // EX_GDT_5030: the spool is the service user's alone.
    assert.equal(fs.statSync(service.spoolDir).mode & 0o777, 0o700);
    for (const f of fs.readdirSync(service.spoolDir)) assert.equal(fs.statSync(path.join(service.spoolDir, f)).mode & 0o777, 0o600, f);
  } finally {
    await service.stop();
  }
  const again = make(port);
  await again.start();
  try {
    assert.equal(again.url.split('/').pop(), fs.readFileSync(urlFile, 'utf8').split('/').pop());
  } finally {
    await again.stop();
    await writer.close();
    traces.close();
    await store.close();
  }
});
