// The registry commands as an administrator uses them, on a copy of the shipped sample, run
// in-process (test/helpers/cli-in-process.ts): what they do and say, not how a process ends.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { exampleCopy, type ExampleCopy } from '../helpers/example-copy.js';
import { traceLines } from '../helpers/traces.js';

const D = 'ch-exemple.mssante.fr';

function sample(): ExampleCopy & { cli: (...args: string[]) => ReturnType<typeof runCliInProcess> } {
  const copy = exampleCopy();
  return { ...copy, cli: (...args: string[]) => runCliInProcess(['--config', copy.config, ...args]) };
}

const traceLinesOf = (dir: string) => traceLines(path.join(dir, 'state', 'traces'));

test('the shipped sample registry is valid and the CLI lists, shows and checks it', async () => {
  const direct = await runCliInProcess(['--config', path.join(REPO_ROOT, 'examples', 'config.yaml'), 'bal', 'check']);
  assert.equal(direct.status, 0, direct.stderr);
  assert.match(direct.stdout, /registry .*examples\/registry\.yaml is valid: 8 mailboxes/);
  const s = sample();
  const list = await s.cli('bal', 'list');
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^jean\\.dupont@${D}\\tPER\\tactive\\t-$`, 'm'));
  const show = await s.cli('bal', 'show', `secretariat.cardiologie@${D}`);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /responsible: 810000000103 Dr Claire Petit/);
  assert.match(show.stdout, /delegate: 810000000102 Sophie Martin \(for 810000000103\)/);
  assert.match(show.stdout, /last login: never/);
});

test('RE_GBM_4430: the suspended mailboxes of a structure are listed with their reasons', async () => {
  const s = sample();
  const r = await s.cli('bal', 'list', '--suspended', '--structure', '1130000001', '--json');
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as Array<{ address: string; suspension: { reason: string } }>;
  assert.deepEqual(
    list.map((b) => [b.address, b.suspension.reason]),
    [[`laboratoire.resultats@${D}`, 'Envois en masse non sollicités : analyse en cours']],
  );
});

test('EX_SSI_5150: every change is traced with the acting administrator (--actor, else the Unix user) and the requesting user', async () => {
  const s = sample();
  let r = await s.cli(
    'bal',
    'delegate',
    `jean.dupont@${D}`,
    '--delegate',
    '810000000999',
    '--by',
    '810000000101',
    '--name',
    'Dr Remplaçant',
    '--actor',
    'alice',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /810000000999 is now a delegate of jean\.dupont@/);
  r = await s.cli('bal', 'suspend', `mdurand@${D}`, '--reason', 'compte compromis');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /notify the structure manager/);
  r = await s.cli('bal', 'reactivate', `mdurand@${D}`);
  assert.equal(r.status, 0, r.stderr);
  r = await s.cli('bal', 'set-liste-rouge', `jean.dupont@${D}`, 'on', '--by', '810000000101');
  assert.equal(r.status, 0, r.stderr);
  r = await s.cli('bal', 'revoke', `jean.dupont@${D}`, '--delegate', '810000000999', '--by', '810000000101');
  assert.equal(r.status, 0, r.stderr);
  r = await s.cli(
    'bal',
    'add',
    '--address',
    `claire.petit@${D}`,
    '--type',
    'PER',
    '--id-nat',
    '810000000103',
    '--last-name',
    'Petit',
    '--first-name',
    'Claire',
    '--structure',
    'FINESS:130000001',
    '--contact-email',
    'claire@example.org',
  );
  assert.equal(r.status, 0, r.stderr);
  r = await s.cli('bal', 'delete', `claire.petit@${D}`, '--reason', 'départ');
  assert.equal(r.status, 0, r.stderr);
  const t = traceLinesOf(s.dir);
  assert.deepEqual(
    t.map((x) => x.action),
    ['bal.delegate', 'bal.suspend', 'bal.reactivate', 'bal.liste-rouge', 'bal.revoke', 'bal.add', 'bal.delete'],
  );
  assert.equal(t[0]?.actor.id, 'admin:alice');
  assert.match(t[0]?.actor.source, /^--actor, unix user /);
  assert.match(t[1]?.actor.id, /^admin:/);
  assert.equal(t[1]?.actor.kind, 'admin');
  assert.equal(t[0]?.request.requestedBy, '810000000101');
  assert.ok(
    t.every((x) => x.response.ok === true && x.means.service === 'cli' && /^Linux /.test(x.means.os)),
    'EX_GDT_5040: the technical means',
  );
  const verify = await s.cli('traces', 'verify');
  assert.equal(verify.status, 0, verify.stdout);
  assert.match(verify.stdout, /traces intact: \d+ files, \d+ lines/);
  const show = JSON.parse((await s.cli('bal', 'show', `claire.petit@${D}`, '--json')).stdout);
  assert.equal(show.status, 'deleted');
});

test('bad input through the CLI: unknown BAL, delegate delegating, malformed registry — exit 1, the reason with line/key/requirement, nothing changed', async () => {
  const s = sample();
  const before = fs.readFileSync(s.registry, 'utf8');
  let r = await s.cli('bal', 'suspend', `personne@${D}`, '--reason', 'x');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error REGISTRY_UNKNOWN_BAL: no mailbox personne@ch-exemple\.mssante\.fr/);
  r = await s.cli('bal', 'delegate', `jean.dupont@${D}`, '--delegate', '810000000777', '--by', '810000000102');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error REGISTRY_FORBIDDEN: 810000000102 is a delegate/);
  r = await s.cli('bal', 'add', '--address', `Jean.Dupont@${D}`, '--type', 'PER');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /REGISTRY_DUPLICATE_ADDRESS/);
  r = await s.cli('bal', 'set-description', `secretariat.cardiologie@${D}`, 'x'.repeat(200));
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /registry\.yaml:\d+: mailboxes\[4\]\.description \(secretariat\.cardiologie@ch-exemple\.mssante\.fr\): Annuaire Description \[REGISTRY_FIELD_LENGTH\]/,
  );
  r = await s.cli('bal', 'set-liste-rouge', `jean.dupont@${D}`, 'maybe');
  assert.equal(r.status, 2);
  assert.equal(fs.readFileSync(s.registry, 'utf8'), before);
  fs.writeFileSync(s.registry, before.replace('    type: PER\n    created: 2025-02-03', '    type: PER\n    created: 2025-02-03\n    created: 2025-02-04'));
  r = await s.cli('bal', 'list');
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /error REGISTRY_YAML_INVALID: registry file is not valid YAML \(nothing was changed\):\n {2}.*registry\.yaml:\d+: Map keys must be unique/,
  );
  const failures = traceLinesOf(s.dir)
    .filter((x) => x.response.ok === false)
    .map((x) => x.response.code);
  assert.deepEqual(
    failures,
    ['REGISTRY_UNKNOWN_BAL', 'REGISTRY_FORBIDDEN', 'REGISTRY_DUPLICATE_ADDRESS', 'REGISTRY_INVALID'],
    'refusals are traced too (EX_GDT_5040)',
  );
});

test('EX_GDT_5070: traces prune applies the configured retention', async () => {
  const s = sample();
  await s.cli('bal', 'suspend', `mdurand@${D}`, '--reason', 'x');
  let r = await s.cli('traces', 'prune', '--dry-run', '--now', '2040-01-01T00:00:00Z', '--json');
  assert.equal(r.status, 0, r.stderr);
  const dry = JSON.parse(r.stdout);
  assert.equal(dry.traces[0].removedDays.length, 1, 'functional traces older than 10 years');
  r = await s.cli('traces', 'prune', '--now', '2030-01-01T00:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /functional: 0 day\(s\) before 2020-01-0\d removed/);
  r = await s.cli('traces', 'prune', '--now', '2040-01-01T00:00:00Z');
  assert.match(r.stdout, /functional: 1 day\(s\) before 2030-01-0\d removed/);
  assert.equal((await s.cli('traces', 'verify')).status, 0);
});

test('EX_GBM_4440 EX_GBM_6010: the shipped systemd timer runs the lifecycle job daily as system:lifecycle, and traces prune daily', () => {
  const unit = (n: string) => fs.readFileSync(path.join(REPO_ROOT, 'systemd', n), 'utf8');
  assert.match(unit('mss-sidecar-lifecycle.service'), /^ExecStart=\/usr\/bin\/mss-sidecar lifecycle run --actor system:lifecycle --once-per day$/m);
  assert.match(unit('mss-sidecar-lifecycle.timer'), /^OnCalendar=\*-\*-\* 03:15:00$/m);
  assert.match(unit('mss-sidecar-lifecycle.timer'), /^Persistent=true$/m);
  assert.match(unit('mss-sidecar-traces-prune.service'), /^ExecStart=\/usr\/bin\/mss-sidecar traces prune$/m);
  assert.match(unit('mss-sidecar-traces-prune.timer'), /^OnCalendar=\*-\*-\* 04:45:00$/m);
});
