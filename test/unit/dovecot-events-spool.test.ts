// The spool of Dovecot's events, read by `serve` (EX_GDT_5030, EX_GDT_5040): bounded whatever
// is in it, resumable from its committed position, across the writer's segments.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/load.js';
import { DOVECOT_BACKLOG_WARN_MS, dovecotEventsBacklog, type CheckResult } from '../../src/health/checks.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { DovecotEventsService } from '../../src/traces/dovecot-events-service.js';
import { DovecotEventsSpoolReader } from '../../src/traces/dovecot-events-spool-reader.js';
import { DovecotEventsSpoolWriter, notServesUser } from '../../src/traces/dovecot-events-spool.js';
import { listSegments, segmentName, spoolDirOf } from '../../src/traces/dovecot-events-spool-files.js';
import { DovecotSessions } from '../../src/traces/dovecot-sessions.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { captureLogger } from '../helpers/log.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

const event = (n: number, extra = ''): string =>
  JSON.stringify({
    event: 'imap_command_finished',
    end_time: `2026-12-07T03:00:00.${String(n).padStart(6, '0')}Z`,
    categories: ['service:imap', 'imap'],
    fields: { user: 'jean@x.mssante.fr', session: `s${n}`, cmd_name: 'CREATE', cmd_args: `F${n}${extra}`, mailbox: `F${n}`, tagged_reply_state: 'OK' },
  });

function setup(max = 4096, quietMs = 0) {
  const dir = tmpDir('mss-dovecot-spool-');
  const urlFile = path.join(dir, 'dovecot-events.url');
  fs.writeFileSync(urlFile, `http://127.0.0.1:426/v1/dovecot-events/${'k'.repeat(32)}`);
  const spool = spoolDirOf(urlFile);
  fs.mkdirSync(spool, { mode: 0o700 });
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0 });
  const { log, lines: logged } = captureLogger();
  const service = () =>
    new DovecotEventsService({
      listen: { host: '127.0.0.1', port: 426 },
      urlFile,
      maxEventBytes: max,
      traces,
      sessions: new DovecotSessions(store, 0),
      log,
      pollMs: 50,
      quietMs,
    });
  const created = () => traceLines(path.join(dir, 'traces')).map((l) => String(l.request?.args));
  const close = async () => {
    traces.close();
    await store.close();
  };
  return { dir, urlFile, spool, service, created, logged, close };
}

async function drained(s: DovecotEventsService): Promise<void> {
  // start() kicks a drain; idle() waits for it (and for any a change notification started).
  await new Promise((r) => setTimeout(r, 20));
  await s.idle();
}

test('EX_GDT_5030 bounded: a line of 5 MB in the spool is refused with a logged code (DOVECOT_EVENT_TOO_LARGE) and skipped without being kept whole, a garbage line too (DOVECOT_EVENT_INVALID); the events around them are traced', async () => {
  const t = setup(4096);
  const huge = 'x'.repeat(5 * 1024 * 1024);
  fs.writeFileSync(path.join(t.spool, segmentName(1)), `${event(1)}\n${huge}\nnot json at all\n${event(2)}\n`);
  const reader = new DovecotEventsSpoolReader(t.spool, 4096);
  // The reader's memory is one chunk: the bound plus 64 KiB, not the line.
  const read = (reader as unknown as { buffer: Buffer }).buffer.length;
  assert.ok(read <= 4096 + 64 * 1024, `reads ${read} bytes at a time`);
  const s = t.service();
  await s.start();
  await drained(s);
  await s.stop();
  assert.deepEqual(t.created(), ['F1', 'F2']);
  assert.deepEqual(s.counts, { traced: 2, refused: 2, ignored: 0 });
  const codes = t.logged
    .map((l) => JSON.parse(l) as { code?: string })
    .map((l) => l.code)
    .filter(Boolean);
  assert.deepEqual(codes, ['DOVECOT_EVENT_TOO_LARGE', 'DOVECOT_EVENT_INVALID']);
  await t.close();
});

test('EX_GDT_5030 bounded: a line past the bound is skipped to its end even when serve stops in the middle of it (the position says so), and an unfinished last line waits for its end', async () => {
  const t = setup(1000);
  const file = path.join(t.spool, segmentName(1));
  fs.writeFileSync(file, `${event(1)}\n${'y'.repeat(300_000)}`);
  const reader = new DovecotEventsSpoolReader(t.spool, 1000);
  let b = reader.next();
  assert.deepEqual(b.lines, [event(1)]);
  assert.deepEqual(
    b.refusals.map((r) => r.code),
    ['DOVECOT_EVENT_TOO_LARGE'],
  );
  assert.equal(b.position.skipping, true);
  reader.commit(b.position);
  b = reader.next();
  assert.deepEqual([b.lines, b.refusals], [[], []], 'skipping: refused once');
  reader.commit(b.position);
  // A new reader (serve restarted) goes on skipping, and refuses the line once only.
  fs.appendFileSync(file, `${'y'.repeat(200_000)}\n${event(2)}\n${event(3).slice(0, 40)}`);
  const again = new DovecotEventsSpoolReader(t.spool, 1000);
  let lines: string[] = [];
  let pos = again.committed();
  for (let i = 0; i < 20; i++) {
    const n = again.next(pos);
    assert.deepEqual(n.refusals, []);
    lines = lines.concat(n.lines);
    pos = n.position;
  }
  assert.deepEqual(lines, [event(2)], 'the unfinished line waits');
  fs.appendFileSync(file, `${event(3).slice(40)}\n`);
  assert.deepEqual(again.next(pos).lines, [event(3)]);
  await t.close();
});

test("EX_GDT_5030: the writer's segments are read in order across a roll, final segments read are deleted (never the newest), a partial write a crash left is refused alone, a truncated segment is read again; a new reader resumes at the committed position", async () => {
  const t = setup();
  const writer = new DovecotEventsSpoolWriter({ urlFile: t.urlFile, maxSegmentBytes: 2000, report: () => undefined });
  // A crash in the middle of a write: the next writer ends that line first.
  fs.writeFileSync(path.join(t.spool, segmentName(1)), `${event(0)}\n{"event":"imap_comm`);
  for (let i = 1; i <= 30; i++) writer.append(Buffer.from(event(i)));
  await writer.close();
  assert.ok(listSegments(t.spool).length > 3, `rolled: ${listSegments(t.spool).join(' ')}`);
  const s = t.service();
  await s.start();
  await drained(s);
  await s.stop();
  assert.deepEqual(t.created(), ['F0', ...Array.from({ length: 30 }, (_, i) => `F${i + 1}`)]);
  assert.deepEqual(listSegments(t.spool), [listSegments(t.spool).at(-1)], 'only the newest is left');
  assert.ok(
    t.logged.some((l) => /DOVECOT_EVENT_INVALID/.test(l)),
    'the unfinished line',
  );
  // Restarted: nothing again.
  const s2 = t.service();
  await s2.start();
  await drained(s2);
  await s2.stop();
  assert.equal(t.created().length, 31);
  // Truncated by hand (an operator emptied it): read again from its start.
  const newest = path.join(t.spool, listSegments(t.spool).at(-1) as string);
  fs.writeFileSync(newest, `${event(99)}\n`);
  const s3 = t.service();
  await s3.start();
  await drained(s3);
  await s3.stop();
  assert.deepEqual(t.created().slice(31), ['F99']);
  assert.ok(t.logged.some((l) => /DOVECOT_SPOOL_TRUNCATED/.test(l)));
  await t.close();
});

test('EX_GDT_5030: a spool that grew while serve was stopped (20,000 events) is traced in bounded chunks at start; the figure is printed', async () => {
  const t = setup(65_536);
  const n = 20_000;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(event(i));
  fs.writeFileSync(path.join(t.spool, segmentName(1)), `${lines.join('\n')}\n`);
  const s = t.service();
  const started = process.hrtime.bigint();
  await s.start();
  await drained(s);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await s.stop();
  assert.equal(s.counts.traced, n);
  assert.equal(t.created().length, n);
  process.stdout.write(`# catch-up: ${n} events in ${ms.toFixed(0)} ms (${Math.round((n / ms) * 1000)} events/s)\n`);
  await t.close();
});

test('EX_GDT_5030: two spool writers overlapping (a reload of Dovecot) keep a final segment final — the old one moves to the newer segment — and the reader waits until a final segment has been left alone before it moves past it', async () => {
  const t = setup();
  const old = new DovecotEventsSpoolWriter({ urlFile: t.urlFile, report: () => undefined });
  old.append(Buffer.from(event(1)));
  // The new writer, with a tiny bound: it starts a segment of its own (2), and another after its event (3).
  const fresh = new DovecotEventsSpoolWriter({ urlFile: t.urlFile, maxSegmentBytes: 10, report: () => undefined });
  fresh.append(Buffer.from(event(2)));
  assert.equal(listSegments(t.spool).length, 3);
  old.append(Buffer.from(event(3)));
  assert.match(fs.readFileSync(path.join(t.spool, segmentName(3)), 'utf8'), /"F3"/, 'the old writer followed to the newest');
  assert.doesNotMatch(fs.readFileSync(path.join(t.spool, segmentName(1)), 'utf8'), /"F3"/);
  await old.close();
  await fresh.close();
  const patient = new DovecotEventsSpoolReader(t.spool, 4096, 60_000);
  const b = patient.next();
  assert.deepEqual(b.lines, [event(1)]);
  assert.deepEqual(patient.next(b.position).position, b.position, 'waits at the end of the fresh final segment');
  const hasty = new DovecotEventsSpoolReader(t.spool, 4096, 0);
  const c = hasty.next(b.position);
  assert.deepEqual(c.lines, [event(2)]);
  assert.deepEqual(hasty.next(c.position).lines, [event(3)]);
  await t.close();
});

test("EX_GDT_5030: the spool writer runs only as serve's user (the owner of serve's state directory): as root, with the service's `user =` missing, it spools nothing and says why in Dovecot's log", async () => {
  const script = fileURLToPath(new URL('../../src/traces/dovecot-events-spool.js', import.meta.url));
  const run = (env: Record<string, string>, urlFile: string): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [script, urlFile], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  const state = tmpDir('mss-spool-user-');
  fs.chownSync(state, 65534, 65534); // serve's user here: nobody
  const urlFile = path.join(state, 'dovecot-events.url');
  assert.equal(notServesUser(state, 65534), undefined);
  assert.match(String(notServesUser(state, 0)), /DOVECOT_SPOOL_USER: the spool writer runs as uid 0, but .* belongs to uid 65534/);
  assert.match(String(notServesUser(path.join(state, 'absent'), 0)), /DOVECOT_SPOOL_USER: cannot read the owner of/);
  if (process.getuid?.() !== 0) return; // the child runs as root below
  // Started by Dovecot's master as root without RESTRICT_SETUID (no `user =`): refused.
  const asRoot = await run({}, urlFile);
  assert.equal(asRoot.code, 78, asRoot.stderr);
  assert.match(asRoot.stderr, /DOVECOT_SPOOL_USER: .*uid 0.*uid 65534.*user =/);
  assert.equal(fs.existsSync(spoolDirOf(urlFile)), false, 'nothing spooled, no spool made as root');
  // With the service's user (RESTRICT_SETUID, as Dovecot's master sets it), it passes the check
  // and goes on to the listener Dovecot hands it (none here: fd 7 is not a socket).
  const asServe = await run({ RESTRICT_SETUID: '65534', RESTRICT_SETGID: '65534' }, urlFile);
  assert.doesNotMatch(asServe.stderr, /DOVECOT_SPOOL_USER/);
  assert.notEqual(asServe.code, 78, asServe.stderr);
});

test('EX_GDT_5030: `status` says when Dovecot events wait untraced in the spool (serve stopped) and is quiet while serve keeps up; an unreadable spool is unknown', async () => {
  const state = tmpDir('mss-backlog-');
  const config = parseConfigText(
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: /x.crt, key: /x.key }
trust: { dir: /x }
state: { dir: ${state} }
traces: { dovecotEvents: { enabled: true } }
`,
    path.join(state, 'config.yaml'),
  );
  const dir = spoolDirOf(path.join(state, 'dovecot-events.url'));
  const now = Date.now();
  const check = (recheckMs = 0, at = now): Promise<CheckResult | undefined> => dovecotEventsBacklog(config, at, recheckMs);
  assert.equal((await check())?.severity, 'ok', 'no spool yet');
  // Events spooled, serve never traced any: a warning naming the bytes and the spool.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, segmentName(1)), '{"event":"imap_command_finished"}\n{"event":"imap_command_finished"}\n');
  let r = await check();
  assert.equal(r?.severity, 'warning', JSON.stringify(r));
  assert.equal(r?.value, 68);
  assert.match(String(r?.detail), /68 bytes of Dovecot events wait in .*dovecot-events\.spool, serve has never traced any/);
  // serve traced them (position at the end): ok, however old the position.
  fs.writeFileSync(path.join(dir, 'position.json'), JSON.stringify({ segment: segmentName(1), offset: 68 }));
  assert.equal((await check(0, now + 3_600_000))?.severity, 'ok');
  // New events after a position committed two minutes ago: serve is not tracing.
  fs.appendFileSync(path.join(dir, segmentName(1)), '{"event":"imap_command_finished"}\n');
  fs.writeFileSync(path.join(dir, segmentName(2)), '{"event":"imap_command_finished"}\n');
  r = await check(0, now + DOVECOT_BACKLOG_WARN_MS + 60_000);
  assert.equal(r?.severity, 'warning');
  assert.equal(r?.value, 68, 'the rest of the segment at the position and the next one');
  assert.match(String(r?.detail), /untraced since /);
  // A position committed within the minute: serve keeps up.
  assert.equal((await check(0, now + 1000))?.severity, 'ok');
  // The second look: serve commits meanwhile, no warning.
  const later = now + DOVECOT_BACKLOG_WARN_MS + 60_000;
  const looking = check(300, later);
  setTimeout(() => fs.writeFileSync(path.join(dir, 'position.json'), JSON.stringify({ segment: segmentName(2), offset: 34 })), 50);
  assert.equal((await looking)?.severity, 'ok');
  // Unreadable spool (as another user would find it).
  if (process.getuid?.() === 0) {
    fs.rmSync(dir, { recursive: true });
    fs.writeFileSync(dir, 'not a directory');
    assert.equal((await check())?.severity, 'unknown');
  }
  // Off: no check at all.
  assert.equal(
    await dovecotEventsBacklog(
      parseConfigText(
        `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: /x.crt, key: /x.key }\ntrust: { dir: /x }\nstate: { dir: ${state} }\n`,
        path.join(state, 'c.yaml'),
      ),
      now,
    ),
    undefined,
  );
});
