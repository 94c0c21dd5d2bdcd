import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { chainLine, chainRecord, checkLine } from '../../src/traces/chain.js';
import { sanitize, sanitized } from '../../src/traces/record.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { isoUtc, utcDay } from '../../src/util/day-files.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { pruneTraces } from '../../src/traces/prune.js';
import { tmpDir } from '../helpers/tmp.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.jsonl') && e.name !== 'manifest.jsonl') out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

function sample(log: TraceLog, n: number): void {
  for (let i = 0; i < n; i++) {
    log.write({
      action: 'bal.delegate',
      actor: { id: 'admin:alice', kind: 'admin', source: 'unix' },
      bal: 'secretariat@ch-exemple.mssante.fr',
      means: { service: 'cli' },
      request: { delegate: `81000000000${i}` },
      response: { ok: true },
    });
  }
}

test('EX_GDT_5040 EX_GDT_5050: a trace carries action, author and on whose behalf, ms UTC time, means, address, request, response and message metadata, never content or tokens', async () => {
  const dir = tmpDir();
  const log = new TraceLog(dir, { syncDelayMs: 0 });
  const rec = log.write({
    action: 'message.submit',
    actor: { id: '810000000001', kind: 'user', onBehalfOf: '810000000002', source: 'psc' },
    bal: 'jean.dupont@ch-exemple.mssante.fr',
    means: { service: 'submission', client: 'DPI-X 4.2', nil: 'editeur/dpi/4.2', authType: 'XOAUTH2' },
    address: '10.1.2.3',
    request: { token: 'eyJsecret', password: 'p', nested: { access_token: 't', keep: 'ok' } },
    response: { ok: false, code: '550', message: 'recipient domain not in the liste blanche' },
    message: { id: '4Xyz123', from: 'jean.dupont@ch-exemple.mssante.fr', to: ['a@b.mssante.fr', 'c@d.mssante.fr'], subject: 'CR consultation', size: 2048 },
  });
  log.close();
  assert.match(rec.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const [file] = filesUnder(path.join(dir, 'functional'));
  assert.ok(file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'trace files are readable by the service only');
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  const text = fs.readFileSync(file, 'utf8');
  assert.doesNotMatch(text, /eyJsecret|"p"|"t"/);
  const line = JSON.parse(text.split('\n')[1] ?? '');
  assert.equal(line.action, 'message.submit');
  assert.deepEqual(line.actor, { id: '810000000001', kind: 'user', onBehalfOf: '810000000002', source: 'psc' });
  assert.equal(line.means.authType, 'XOAUTH2');
  assert.equal(line.address, '10.1.2.3');
  assert.equal(line.request.token, '[redacted]');
  assert.equal(line.request.nested.keep, 'ok');
  assert.equal(line.response.ok, false);
  assert.deepEqual(line.message.to, ['a@b.mssante.fr', 'c@d.mssante.fr']);
  assert.equal(line.message.subject, 'CR consultation');
  assert.equal(line.message.size, 2048);
  const report = await verifyTraces(dir);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
});

test('EX_GDT_5010: verify accepts untouched traces of several concurrent writers and detects an edited line', async () => {
  const dir = tmpDir();
  const a = new TraceLog(dir);
  const b = new TraceLog(dir);
  for (let i = 0; i < 20; i++) {
    sample(a, 1);
    sample(b, 1);
  }
  a.close();
  b.close();
  const clean = await verifyTraces(dir);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.files, 2);
  assert.equal(clean.lines, 2 * 22);
  const [file] = filesUnder(dir);
  assert.ok(file);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[6] = (lines[6] ?? '').replace('secretariat@', 'direction@');
  fs.writeFileSync(file, lines.join('\n'));
  const r = await verifyTraces(dir);
  assert.equal(r.ok, false);
  assert.match(r.problems.map((p) => `${p.line}: ${p.message}`).join('\n'), /7: the line does not match its hash/);
});

test('EX_GDT_5010: a deleted line, lines cut after the seal, a deleted file and an added file are all detected', async () => {
  const dir = tmpDir();
  const log = new TraceLog(dir);
  sample(log, 6);
  log.close();
  const [file] = filesUnder(dir);
  assert.ok(file);
  const original = fs.readFileSync(file, 'utf8');
  const lines = original.split('\n');
  fs.writeFileSync(file, [...lines.slice(0, 3), ...lines.slice(4)].join('\n'));
  let r = await verifyTraces(dir);
  assert.match(r.problems.map((p) => p.message).join('\n'), /chain broken/);

  fs.writeFileSync(file, `${lines.slice(0, 4).join('\n')}\n`);
  r = await verifyTraces(dir);
  assert.match(r.problems.map((p) => p.message).join('\n'), /differs from its seal/);

  fs.writeFileSync(file, original);
  assert.equal((await verifyTraces(dir)).ok, true);
  fs.rmSync(file);
  r = await verifyTraces(dir);
  assert.match(r.problems.map((p) => p.message).join('\n'), /listed in the manifest but missing/);

  fs.writeFileSync(file, original);
  fs.writeFileSync(path.join(path.dirname(file), 'forged.jsonl'), original);
  r = await verifyTraces(dir);
  assert.match(r.problems.map((p) => p.message).join('\n'), /not in the manifest/);
});

test('EX_GDT_5010: one writer chains its files across days, a missing day is detected, an unsealed file is only a warning', async () => {
  const dir = tmpDir();
  let now = new Date('2025-03-01T23:59:59.500Z');
  const log = new TraceLog(dir, { now: () => now });
  sample(log, 2);
  now = new Date('2025-03-02T00:00:00.200Z');
  sample(log, 2);
  now = new Date('2025-03-03T08:00:00.000Z');
  sample(log, 2);
  log.close();
  assert.equal(filesUnder(dir).length, 3);
  assert.equal((await verifyTraces(dir)).ok, true);
  // A writer that dies without closing (another process, killed): a warning, not a problem.
  const script = `import { TraceLog } from ${JSON.stringify(new URL('../../src/traces/trace-log.js', import.meta.url).href)};
    const log = new TraceLog(${JSON.stringify(dir)}, { syncDelayMs: 0 });
    log.write({ action: 'login', actor: { id: '810000000001', kind: 'user' }, response: { ok: true } });
    process.exit(0);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const r1 = await verifyTraces(dir);
  assert.deepEqual(r1.problems, []);
  assert.equal(r1.warnings.length, 1);
  assert.match(r1.warnings[0]?.message ?? '', /not sealed/);
  const middle = filesUnder(dir).find((f) => f.includes('2025-03-02'));
  assert.ok(middle);
  fs.rmSync(middle);
  const r2 = await verifyTraces(dir);
  assert.match(r2.problems.map((p) => p.message).join('\n'), /previous file of this writer, .*2025-03-02.* is missing/);
});

test('EX_GDT_5070: prune removes days older than each category retention and verify still passes', async () => {
  const dir = tmpDir();
  let now = new Date('2024-01-10T10:00:00Z');
  const log = new TraceLog(dir, { now: () => now });
  sample(log, 1);
  log.write({ action: 'lifecycle.run', category: 'technical', actor: { id: 'system:lifecycle', kind: 'system' }, response: { ok: true } });
  now = new Date('2025-06-01T10:00:00Z');
  sample(log, 1);
  log.write({ action: 'lifecycle.run', category: 'technical', actor: { id: 'system:lifecycle', kind: 'system' }, response: { ok: true } });
  log.close();
  const dry = pruneTraces(dir, { functional: 3650, technical: 365 }, new Date('2025-06-02T00:00:00Z'), true);
  assert.deepEqual(
    dry.map((r) => [r.category, r.removedDays]),
    [
      ['functional', []],
      ['technical', ['2024-01-10']],
    ],
  );
  assert.ok(fs.existsSync(path.join(dir, 'technical', '2024-01-10')), 'dry run removes nothing');
  pruneTraces(dir, { functional: 3650, technical: 365 }, new Date('2025-06-02T00:00:00Z'));
  assert.ok(!fs.existsSync(path.join(dir, 'technical', '2024-01-10')));
  assert.ok(fs.existsSync(path.join(dir, 'functional', '2024-01-10')));
  const r = await verifyTraces(dir);
  assert.deepEqual(r.problems, [], 'pruned files are not reported as deleted');
});

test('EX_GDT_5010 EX_GDT_5050: writeAll appends several traces with one write, in order in the chain, and verify passes (issue 20)', async () => {
  const dir = tmpDir();
  const log = new TraceLog(dir, { syncDelayMs: 0 });
  log.write({ action: 'message.send', actor: { id: 'CN=a', kind: 'peer' }, response: { ok: true } }); // the file and its header exist
  const writes: string[] = [];
  const writeSync = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: string, ...rest: unknown[]) => {
    writes.push(String(data));
    return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  };
  let records;
  try {
    records = log.writeAll(
      ['r1@b.mssante.fr', 'r2@b.mssante.fr', 'r3@b.mssante.fr'].map((to) => ({
        action: 'message.send',
        actor: { id: 'CN=a', kind: 'peer' as const },
        request: { rcpt: to },
        response: { ok: true },
        message: { id: 'Q1', from: 's@a.mssante.fr', to: [to] },
      })),
    );
  } finally {
    (fs as { writeSync: unknown }).writeSync = writeSync;
  }
  log.close();
  assert.equal(writes.length, 1, 'one write for the three traces');
  assert.equal(writes[0]?.split('\n').filter(Boolean).length, 3);
  assert.deepEqual(
    records.map((r) => r.request?.rcpt),
    ['r1@b.mssante.fr', 'r2@b.mssante.fr', 'r3@b.mssante.fr'],
  );
  const [file] = filesUnder(path.join(dir, 'functional'));
  const lines = fs
    .readFileSync(file ?? '', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.seq),
    [0, 1, 2, 3, 4, 5],
    'header, the first trace, the three, the seal',
  );
  assert.deepEqual(
    lines.slice(2, 5).map((l) => l.request.rcpt),
    ['r1@b.mssante.fr', 'r2@b.mssante.fr', 'r3@b.mssante.fr'],
  );
  const report = await verifyTraces(dir);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
});

test('EX_GDT_5010 (issue 20): chainRecord writes, byte for byte, the line and hash chainLine({ seq, prev, ...record }) writes, records with their own seq or prev and empty ones included', () => {
  const prev = 'ab'.repeat(32);
  const records: Array<Record<string, unknown>> = [
    {
      id: 'x',
      at: '2026-12-06T22:00:00.000Z',
      category: 'functional',
      action: 'message.submit',
      actor: { id: 'a', kind: 'user' },
      response: { ok: true, n: undefined },
    },
    { message: { subject: 'é "quoted" \u2028 \\ </script>', to: ['a@b', 'c@d'] }, size: 12.5, nothing: null },
    {},
    { seq: 99, other: 1 },
    { prev: 'elsewhere' },
  ];
  for (const [i, r] of records.entries()) {
    const a = chainRecord(i + 1, prev, r);
    const b = chainLine({ seq: i + 1, prev, ...r });
    assert.equal(a.line, b.line, JSON.stringify(r));
    assert.equal(a.hash, b.hash);
    assert.equal(checkLine(a.line.slice(0, -1)).ok, true);
  }
});

test('EX_GDT_5040 (issue 20): sanitize still redacts secret and content keys at any depth (the remembered key tests too), skips undefined values, truncates long strings and deep nesting', () => {
  const input = { request: { Token: 'secret', nested: [{ password: 'p', body: 'b', keep: 'k' }] }, skip: undefined, long: 'x'.repeat(5000) };
  for (let round = 0; round < 2; round++) {
    const out = sanitize(input) as { request: { Token: unknown; nested: unknown }; long: unknown };
    assert.equal(out.request.Token, '[redacted]');
    assert.deepEqual(out.request.nested, [{ password: '[redacted]', body: '[redacted]', keep: 'k' }]);
    assert.equal('skip' in out, false);
    assert.equal(out.long, `${'x'.repeat(4096)}…`);
  }
  let deep: unknown = 'bottom';
  for (let i = 0; i < 12; i++) deep = { d: deep };
  assert.match(JSON.stringify(sanitize(deep)), /"\[truncated\]"/);
});

test('EX_GDT_5010 (issue 20): utcDay, which remembers the last day, names the right UTC day back and forth across midnights and refuses an invalid time', () => {
  const at = (iso: string): number => Date.parse(iso);
  const cases: Array<[string, string]> = [
    ['2026-12-06T23:59:59.999Z', '2026-12-06'],
    ['2026-12-07T00:00:00.000Z', '2026-12-07'],
    ['2026-12-06T12:00:00.000Z', '2026-12-06'],
    ['2026-12-06T00:00:00.000Z', '2026-12-06'],
    ['2026-12-05T23:59:59.999Z', '2026-12-05'],
    ['1969-12-31T23:59:59.999Z', '1969-12-31'],
    ['1970-01-01T00:00:00.000Z', '1970-01-01'],
    ['2026-12-07T00:00:00.000Z', '2026-12-07'],
  ];
  for (const [iso, day] of cases) assert.equal(utcDay(at(iso)), day, iso);
  assert.equal(utcDay(at('2026-12-06T23:59:59.999Z') + 0.5), '2026-12-06');
  assert.throws(() => utcDay(Number.NaN), RangeError);
});

test('EX_GDT_5040 (issue 20): isoUtc, which formats each second once, writes the time as toISOString does, within and across seconds, days, years, before 1970 and beyond year 9999', () => {
  const times: number[] = [];
  for (const iso of [
    '2026-12-06T23:59:59.998Z',
    '1969-12-31T23:59:59.000Z',
    '0000-01-01T00:00:00.000Z',
    '+010000-01-01T00:00:00.000Z',
    '-000001-06-30T12:00:00.000Z',
  ]) {
    const ms = Date.parse(iso);
    for (const d of [-1001, -1000, -999, -1, 0, 0, 1, 1, 2, 998, 999, 1000, 1001, 86_400_000]) times.push(ms + d);
  }
  let x = 1_796_602_102_434;
  for (let i = 0; i < 2000; i++) {
    x += (i * 7919) % 613;
    times.push(x);
  }
  for (const ms of times) assert.equal(isoUtc(ms), new Date(ms).toISOString(), String(ms));
  assert.throws(() => isoUtc(Number.NaN), RangeError);
});

test('EX_GDT_5040 (issue 20): sanitized gives the JSON sanitize gives, keeping a value as it is only when there is nothing to redact, cut or leave out', () => {
  class WithJson {
    x = 1;
    toJSON(): string {
      return 'custom';
    }
  }
  class ArrayWithJson extends Array<number> {
    toJSON(): string {
      return 'custom';
    }
  }
  let deep: unknown = 'bottom';
  for (let i = 0; i < 9; i++) deep = { d: deep };
  let deepArray: unknown = ['bottom'];
  for (let i = 0; i < 9; i++) deepArray = [deepArray];
  let nine: unknown = 'bottom';
  for (let i = 0; i < 8; i++) nine = { d: nine };
  const kept: unknown[] = [
    { id: 'a', kind: 'user', n: 3, ok: true, nothing: null, to: ['é', 'x'.repeat(4096)], nested: { list: [{ a: 1 }, [2, [3]]] } },
    Object.assign(Object.create(null) as object, { a: 'b' }),
    nine,
    [1, 'two', null],
    'x'.repeat(4096),
    12,
  ];
  const changed: unknown[] = [
    { token: 'secret' },
    { nested: [{ Password: 'p' }] },
    { long: 'x'.repeat(4097) },
    ['x'.repeat(5000)],
    { skip: undefined, keep: 1 },
    deep,
    deepArray,
    { at: new Date(0) },
    { custom: new WithJson() },
    { items: ArrayWithJson.from([1, 2]) },
    'y'.repeat(4097),
  ];
  for (const v of kept) {
    assert.equal(sanitized(v), v, JSON.stringify(v)?.slice(0, 60));
    assert.equal(JSON.stringify(sanitized(v)), JSON.stringify(sanitize(v)));
  }
  for (const v of changed) {
    assert.notEqual(sanitized(v), v, JSON.stringify(v)?.slice(0, 60));
    assert.equal(JSON.stringify(sanitized(v)), JSON.stringify(sanitize(v)));
    assert.deepEqual(sanitized(v), sanitize(v));
  }
});
