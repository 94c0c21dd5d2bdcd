// The exact bytes one accepted message writes — its `submitted` journal line (EX_PSU_5830)
// and its `message.submit` trace line with the hash chain (EX_GDT_5050, EX_GDT_5040,
// EX_GDT_5010) — and a refused message's trace after it, for values a client chooses that
// JSON must escape: non-ASCII, quotes, backslashes, control characters, U+2028, a lone
// surrogate, an over-long Subject (cut by the traces' sanitising). Pinned before the
// recording was made cheaper (issue 20): whatever the code does to save time, the statistics,
// `traces verify` and anyone reading the files see the same bytes. Only the trace id, the
// writer, the host and the pid vary from run to run; the hashes are recomputed here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/log.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { MessageRecorder, type SubmissionFacts } from '../../src/submission/record.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { tmpDir } from '../helpers/tmp.js';

const AT = new Date('2026-12-07T00:20:31.045Z');

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jsonl') && !f.endsWith('manifest.jsonl'))
    .map((f) => path.join(dir, f));
}

/** The line chainLine writes for this body (the text before `,"hash":…`, closed by `}`). */
function chained(body: string): { line: string; hash: string } {
  const hash = createHash('sha256').update(body, 'utf8').digest('hex');
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

const FACTS: SubmissionFacts & { mailId: string; size: number } = {
  mailId: '4dQ"Xy\\Z',
  sender: 'jean."du\\pont"@ch-exemple.mssante.fr',
  recipients: ['é@ü.mssante.fr', 'a\u0001b@x.mssante.fr', 'tab\there@x.mssante.fr', 'sep\u2028\u2029@x.mssante.fr', `${'l'.repeat(200)}@x.mssante.fr`],
  identity: { login: 'jean.dupont@ch-exemple.mssante.fr', authType: 'XOAUTH2', identity: '810000000001', kind: 'user', source: 'registry:sole-user' },
  client: '2001:db8::1',
  subject: `Résumé "CR" \\ \u0000\u001f\u007f \ud83d\ude00 lone \ud800 end ${'s'.repeat(5000)}`,
  size: 123456,
  ins: 'INS "é" 1',
  codeCda: 'c\\d\n',
  nil: '<nil/é/\u0085>',
  userAgent: 'Client \u00e9\u0007 "x"',
  refusedRecipients: [{ rule: 'trust-space', ref: 'EX_LPS_1100', reply: '550 5.7.1 <x@"q".example>: not in the liste blanche', recipient: 'x@"q".example' }],
  wouldRefuse: [],
};

// The Subject's first 4,096 UTF-16 units (its 32 first ones before the run of s), then the ellipsis the sanitising adds.
const SUBJECT_TRACED = `Résumé \\"CR\\" \\\\ \\u0000\\u001f\u007f 😀 lone \\ud800 end ${'s'.repeat(4096 - 32)}…`;
const TO = '"é@ü.mssante.fr","a\\u0001b@x.mssante.fr","tab\\there@x.mssante.fr","sep\u2028\u2029@x.mssante.fr","' + 'l'.repeat(200) + '@x.mssante.fr"';

test('EX_PSU_5830 EX_GDT_5050 EX_GDT_5040 EX_GDT_5010 (issue 20): an accepted message writes exactly these journal and trace bytes, escaping, truncation and hash chain included', async () => {
  const dir = tmpDir('mss-recording-bytes-');
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0, now: () => new Date(AT.getTime() + 7) });
  const recorder = new MessageRecorder(new Journal(store), traces, silentLogger);
  await recorder.accepted(FACTS, AT);
  recorder.refused({ ...FACTS, mailId: undefined, size: undefined, subject: undefined }, {
    code: 550,
    enhanced: '5.7.1',
    text: 'sender "x" refused',
    reason: 'sender-rights',
    ref: 'EX_LPS_1400',
  } as never);
  traces.close();
  await store.close();

  const [journalFile, ...moreJournal] = filesUnder(path.join(dir, 'store', 'journal'));
  assert.equal(moreJournal.length, 0);
  assert.equal(path.basename(path.dirname(journalFile as string)), '2026-12-07');
  assert.equal(
    fs.readFileSync(journalFile as string, 'utf8'),
    `${AT.getTime()}\t{"type":"submitted","at":"2026-12-07T00:20:31.045Z","mailId":"4dQ\\"Xy\\\\Z","sender":"jean.\\"du\\\\pont\\"@ch-exemple.mssante.fr","recipients":[${TO}],"size":123456,"ins":"INS \\"é\\" 1","codeCda":"c\\\\d\\n","nil":"<nil/é/\u0085>","identity":"810000000001","login":"jean.dupont@ch-exemple.mssante.fr","authType":"XOAUTH2","client":"2001:db8::1"}\n`,
  );

  const [traceFile, ...moreTraces] = filesUnder(path.join(dir, 'traces', 'functional'));
  assert.equal(moreTraces.length, 0);
  const writer = path.basename(traceFile as string, '.jsonl');
  const lines = fs.readFileSync(traceFile as string, 'utf8').split(/(?<=\n)/);
  assert.equal(lines.length, 4, 'header, the accepted message, the refused one, the seal');
  const header = chained(
    `{"seq":0,"prev":"${'0'.repeat(64)}","kind":"header","writer":"${writer}","host":${JSON.stringify(os.hostname())},"pid":${process.pid},"category":"functional","day":"2026-12-07","prevFile":null}`,
  );
  assert.equal(lines[0], header.line);
  const ids = lines.slice(1, 3).map((l) => /^\{"seq":\d+,"prev":"[0-9a-f]{64}","id":"([0-9a-f-]{36})","at":/.exec(l)?.[1]);
  assert.ok(ids[0] && ids[1] && ids[0] !== ids[1], lines.slice(1, 3).join(''));
  const at = '2026-12-07T00:20:31.052Z';
  const actor = '"actor":{"id":"810000000001","kind":"user","source":"registry:sole-user"},"bal":"jean.dupont@ch-exemple.mssante.fr"';
  const means = '"means":{"service":"submission","authType":"XOAUTH2","nil":"<nil/é/\u0085>","client":"Client é\\u0007 \\"x\\""},"address":"2001:db8::1"';
  const request =
    '"request":{"sender":"jean.\\"du\\\\pont\\"@ch-exemple.mssante.fr","login":"jean.dupont@ch-exemple.mssante.fr","ins":"INS \\"é\\" 1","codeCda":"c\\\\d\\n","nil":"<nil/é/\u0085>"}';
  const refused =
    '"refusedRecipients":[{"rule":"trust-space","ref":"EX_LPS_1100","reply":"550 5.7.1 <x@\\"q\\".example>: not in the liste blanche","recipient":"x@\\"q\\".example"}]';
  const accepted = chained(
    `{"seq":1,"prev":"${header.hash}","id":"${ids[0]}","at":"${at}","category":"functional","action":"message.submit",${actor},${means},${request},"response":{"ok":true,"accepted":5,${refused}},"message":{"id":"4dQ\\"Xy\\\\Z","from":"jean.\\"du\\\\pont\\"@ch-exemple.mssante.fr","to":[${TO}],"subject":"${SUBJECT_TRACED}","size":123456}}`,
  );
  assert.equal(lines[1], accepted.line);
  const refusedLine = chained(
    `{"seq":2,"prev":"${accepted.hash}","id":"${ids[1]}","at":"${at}","category":"functional","action":"message.submit",${actor},${means},${request},"response":{"ok":false,"code":"EX_LPS_1400","message":"550 5.7.1 sender \\"x\\" refused","rule":"sender-rights",${refused}}}`,
  );
  assert.equal(lines[2], refusedLine.line);
  assert.equal(lines[3], chained(`{"seq":3,"prev":"${refusedLine.hash}","kind":"seal","lines":4}`).line);
  const report = await verifyTraces(path.join(dir, 'traces'));
  assert.deepEqual(report.problems, []);
});
