import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { isMssError } from '../../src/errors.js';
import { RegistryHolder } from '../../src/registry/holder.js';
import { loadRegistryText } from '../../src/registry/load.js';
import { contentHash } from '../../src/registry/cache.js';
import * as ops from '../../src/registry/operations.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { DOMAIN, LOAD, cab, org, per, writeRegistry } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines as readTraces, type TraceLine } from '../helpers/traces.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'registry.yaml');
const EX_DOMAIN = 'ch-exemple.mssante.fr';

interface Fixture {
  dir: string;
  file: string;
  env: ops.EditEnv;
  traces: TraceLog;
  traceLines: () => TraceLine[];
}

function fixture(mailboxes?: Array<Record<string, unknown>>): Fixture {
  const dir = tmpDir();
  let file: string;
  let load = { ...LOAD, stateDir: path.join(dir, 'state') };
  if (mailboxes) file = writeRegistry(dir, mailboxes);
  else {
    file = path.join(dir, 'registry.yaml');
    fs.copyFileSync(EXAMPLE, file);
    load = { ...load, domains: [EX_DOMAIN] };
  }
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0 });
  const env: ops.EditEnv = { file, load, traces, actor: { id: 'admin:alice', kind: 'admin', source: 'test' }, now: () => new Date('2025-06-01T10:00:00Z') };
  const traceLines = () => readTraces(path.join(dir, 'traces'));
  return { dir, file, env, traces, traceLines };
}

/** The file as a full YAML parse sees it must equal what the registry holds. */
function assertConsistent(f: Fixture): void {
  const text = fs.readFileSync(f.file, 'utf8');
  const full = (parse(text) as { mailboxes: Array<{ address: string }> }).mailboxes.map((m) => m.address.toLowerCase());
  const reg = loadRegistryText(f.file, text, { ...f.env.load, stateDir: undefined }).registry;
  assert.deepEqual(
    full,
    reg.all().map((b) => b.address),
  );
}

test('EX_GBM_5413 EX_GBM_5410: delegations are granted and revoked by the holder or a co-holder, each change traced with the admin and the requester', () => {
  const f = fixture();
  const before = fs.readFileSync(f.file, 'utf8');
  ops.addDelegate(f.env, `jean.dupont@${EX_DOMAIN}`, { idNat: '810000000999', name: 'Dr Remplaçant' }, '810000000101');
  let reg = ops.revokeDelegate(f.env, `jean.dupont@${EX_DOMAIN}`, '810000000102', '810000000101').registry;
  const d = reg.canUse('810000000999', `jean.dupont@${EX_DOMAIN}`);
  assert.equal(d.role, 'delegate');
  assert.equal(d.delegateOf, '810000000101');
  assert.equal(reg.canUse('810000000102', `jean.dupont@${EX_DOMAIN}`).allowed, false);
  reg = ops.addCoHolder(f.env, `maison-sante.lilas@${EX_DOMAIN}`, { idNat: '810000000203', lastName: 'Garnier', firstName: 'Hugo' }, '810000000202').registry;
  reg = ops.setResponsible(f.env, `maison-sante.lilas@${EX_DOMAIN}`, { idNat: '810000000203' }, '810000000201').registry;
  reg = ops.setDescription(f.env, `maison-sante.lilas@${EX_DOMAIN}`, 'MSP des Lilas', '810000000203').registry;
  reg = ops.removeCoHolder(f.env, `maison-sante.lilas@${EX_DOMAIN}`, '810000000201', '810000000203').registry;
  const cabBal = reg.get(`maison-sante.lilas@${EX_DOMAIN}`);
  assert.deepEqual(
    cabBal?.coHolders.map((c) => [c.idNat, c.responsible]),
    [
      ['810000000202', false],
      ['810000000203', true],
    ],
  );
  assert.equal(cabBal?.description, 'MSP des Lilas');
  const t = f.traceLines();
  assert.deepEqual(
    t.map((x) => x.action),
    ['bal.delegate', 'bal.revoke', 'bal.coholder-add', 'bal.responsible', 'bal.description', 'bal.coholder-remove'],
  );
  assert.deepEqual(t[0]?.actor, { id: 'admin:alice', kind: 'admin', source: 'test' });
  assert.deepEqual(t[0]?.request, { delegate: '810000000999', for: '810000000101', requestedBy: '810000000101' });
  assert.equal((t[0]?.response as { ok: boolean }).ok, true);
  // The comments and every other entry stay as written.
  const after = fs.readFileSync(f.file, 'utf8');
  const untouched = (s: string) => s.split('# --- Boîtes organisationnelles ---')[0]?.split('  - address: jean.dupont')[0];
  assert.equal(untouched(after), untouched(before));
  assert.match(after, /idNat: "810000000101" {6}# 8 \+ RPPS/);
  assert.match(after, /# --- Boîtes applicatives ---\n {2}- address: dpi\.comptes-rendus/);
  assertConsistent(f);
  f.traces.close();
});

test('EX_GBM_5411: a delegate cannot delegate, APP BALs have no delegation; the refusal is traced and nothing changes', () => {
  const f = fixture();
  const before = fs.readFileSync(f.file, 'utf8');
  assert.throws(
    () => ops.addDelegate(f.env, `jean.dupont@${EX_DOMAIN}`, { idNat: '810000000888' }, '810000000102'),
    (e: unknown) => isMssError(e, 'REGISTRY_FORBIDDEN') && /is a delegate, and delegates cannot declare delegates/.test(e.message),
  );
  assert.throws(
    () => ops.addDelegate(f.env, `dpi.comptes-rendus@${EX_DOMAIN}`, { idNat: '810000000888' }, '810000000101'),
    (e: unknown) => isMssError(e, 'REGISTRY_DELEGATION') && /EX_GBM_5411/.test(e.message),
  );
  assert.throws(
    () => ops.addCoHolder(f.env, `maison-sante.lilas@${EX_DOMAIN}`, { idNat: '810000000777', lastName: 'X', firstName: 'Y' }, '810000000102'),
    (e: unknown) => isMssError(e, 'REGISTRY_FORBIDDEN'),
  );
  assert.equal(fs.readFileSync(f.file, 'utf8'), before);
  const t = f.traceLines();
  assert.equal(t.length, 3);
  assert.deepEqual(
    t.map((x) => (x.response as { ok: boolean; code: string }).code),
    ['REGISTRY_FORBIDDEN', 'REGISTRY_DELEGATION', 'REGISTRY_FORBIDDEN'],
  );
  f.traces.close();
});

test('EX_GBM_5410: a co-holder who is not the responsible adds and removes co-holders, changes the responsible and the description', () => {
  const f = fixture();
  const cab = `maison-sante.lilas@${EX_DOMAIN}`;
  const COHOLDER = '810000000202'; // not the responsible (810000000201 is)
  ops.addCoHolder(f.env, cab, { idNat: '810000000203', lastName: 'Garnier', firstName: 'Hugo' }, COHOLDER);
  ops.setResponsible(f.env, cab, { idNat: COHOLDER }, COHOLDER);
  ops.removeCoHolder(f.env, cab, '810000000201', COHOLDER);
  const reg = ops.setDescription(f.env, cab, 'MSP des Lilas', COHOLDER).registry;
  const bal = reg.get(cab);
  assert.deepEqual(
    bal?.coHolders.map((c) => [c.idNat, c.responsible]),
    [
      ['810000000202', true],
      ['810000000203', false],
    ],
  );
  assert.equal(bal?.description, 'MSP des Lilas');
  const t = f.traceLines();
  assert.deepEqual(
    t.map((x) => [x.action, (x.request as { requestedBy?: string }).requestedBy, (x.response as { ok: boolean }).ok]),
    [
      ['bal.coholder-add', COHOLDER, true],
      ['bal.responsible', COHOLDER, true],
      ['bal.coholder-remove', COHOLDER, true],
      ['bal.description', COHOLDER, true],
    ],
  );
  f.traces.close();
});

test('EX_GBM_5410 EX_GBM_5411: a delegate of a CAB, or a stranger, cannot add or remove co-holders, change the responsible or the description: REGISTRY_FORBIDDEN, file unchanged, refusal traced', () => {
  const f = fixture();
  const cab = `maison-sante.lilas@${EX_DOMAIN}`;
  const DELEGATE = '810000000250';
  const STRANGER = '810000000999';
  ops.addDelegate(f.env, cab, { idNat: DELEGATE, name: 'Secrétariat' }, '810000000202');
  assert.equal(f.traceLines().length, 1);
  const before = fs.readFileSync(f.file, 'utf8');
  const attempts: Array<[string, (by: string) => unknown]> = [
    ['bal.coholder-add', (by) => ops.addCoHolder(f.env, cab, { idNat: '810000000777', lastName: 'X', firstName: 'Y' }, by)],
    ['bal.coholder-remove', (by) => ops.removeCoHolder(f.env, cab, '810000000202', by)],
    ['bal.responsible', (by) => ops.setResponsible(f.env, cab, { idNat: '810000000202' }, by)],
    ['bal.description', (by) => ops.setDescription(f.env, cab, 'Détournée', by)],
  ];
  for (const [who, by, why] of [
    ['delegate', DELEGATE, /is a delegate, and delegates cannot declare delegates, co-holders or responsibles/],
    ['stranger', STRANGER, /is neither the holder, the responsible nor a co-holder/],
  ] as const) {
    for (const [action, run] of attempts) {
      assert.throws(
        () => run(by),
        (e: unknown) => isMssError(e, 'REGISTRY_FORBIDDEN') && why.test(e.message) && /EX_GBM_5410/.test(e.message),
        `${who}: ${action}`,
      );
    }
  }
  assert.equal(fs.readFileSync(f.file, 'utf8'), before, 'the registry file is unchanged');
  const refusals = f.traceLines().slice(1);
  assert.deepEqual(
    refusals.map((x) => [
      x.action,
      x.bal,
      (x.request as { requestedBy?: string }).requestedBy,
      (x.response as { ok: boolean; code?: string }).ok,
      (x.response as { code?: string }).code,
    ]),
    [DELEGATE, STRANGER].flatMap((by) => attempts.map(([action]) => [action, cab, by, false, 'REGISTRY_FORBIDDEN'])),
  );
  f.traces.close();
});

test('EX_GBM_3030: the 21st co-holder of a CAB is refused with the line of the change, the file unchanged', () => {
  const co = (i: number) => ({ idNat: `8100000002${String(i).padStart(2, '0')}`, lastName: `Nom${i}`, firstName: `P${i}`, responsible: i === 0 });
  const f = fixture([
    cab(
      'maison-sante',
      Array.from({ length: 20 }, (_, i) => co(i)),
    ),
  ]);
  const before = fs.readFileSync(f.file, 'utf8');
  loadRegistryText(f.file, before, f.env.load); // the current file's compiled cache
  const cacheBefore = fs.existsSync(path.join(f.dir, 'state')) ? fs.readdirSync(path.join(f.dir, 'state'), { recursive: true }) : [];
  try {
    ops.addCoHolder(f.env, `maison-sante@${DOMAIN}`, { idNat: '810000000777', lastName: 'Vingt', firstName: 'Un' });
    assert.fail('should refuse');
  } catch (err) {
    assert.ok(isMssError(err, 'REGISTRY_INVALID'), String(err));
    assert.match(err.message, /change refused \(1 problem; nothing was changed\)/);
    assert.match(
      err.message,
      /registry\.yaml:\d+: mailboxes\[1\]\.coHolders \(maison-sante@ch-test\.mssante\.fr\): EX_GBM_3030 \[REGISTRY_CAB\]: 21 co-holders; at most 20/,
    );
  }
  assert.equal(fs.readFileSync(f.file, 'utf8'), before);
  const cacheAfter = fs.existsSync(path.join(f.dir, 'state')) ? fs.readdirSync(path.join(f.dir, 'state'), { recursive: true }) : [];
  assert.deepEqual(
    cacheAfter.filter((n) => !String(n).includes('.lock')),
    cacheBefore.filter((n) => !String(n).includes('.lock')),
    'no new compiled cache for a refused change',
  );
  f.traces.close();
});

test('bad input: an unknown BAL, a duplicate address (EX_PBA_5030, RE_GBM_4330 even for a deleted BAL), an over-long field — clear errors, the file unchanged', () => {
  const f = fixture();
  const before = fs.readFileSync(f.file, 'utf8');
  assert.throws(
    () => ops.suspendMailbox(f.env, `nobody@${EX_DOMAIN}`, 'x'),
    (e: unknown) => isMssError(e, 'REGISTRY_UNKNOWN_BAL') && /no mailbox nobody@ch-exemple\.mssante\.fr in /.test(e.message),
  );
  assert.throws(
    () => ops.addMailbox(f.env, { address: `Jean.Dupont@${EX_DOMAIN}`, type: 'PER', created: '2025-06-01' }),
    (e: unknown) => isMssError(e, 'REGISTRY_DUPLICATE_ADDRESS') && /EX_PBA_5030/.test(e.message) && /RE_GBM_4330/.test(e.message),
  );
  assert.throws(
    () => ops.setDescription(f.env, `secretariat.cardiologie@${EX_DOMAIN}`, 'x'.repeat(161)),
    (e: unknown) =>
      isMssError(e, 'REGISTRY_INVALID') &&
      /registry\.yaml:\d+: mailboxes\[4\]\.description \(secretariat\.cardiologie@ch-exemple\.mssante\.fr\): Annuaire Description \[REGISTRY_FIELD_LENGTH\]: at most 160 characters/.test(
        e.message,
      ),
  );
  assert.throws(
    () =>
      ops.addMailbox(f.env, {
        address: `p.martin@${EX_DOMAIN}`,
        type: 'PER',
        created: '2025-06-01',
        holder: { idNat: '810000000555', lastName: 'Martin', firstName: 'Pierre' },
        structure: { type: 'FINESS', id: '130000001' },
      }),
    (e: unknown) => isMssError(e, 'REGISTRY_INVALID') && /EX_GBM_4311 \[REGISTRY_PER_NAMING\]: .*expected pierre\.martin@/.test(e.message),
  );
  assert.equal(fs.readFileSync(f.file, 'utf8'), before);
  f.traces.close();
});

test('RE_GBM_4420 RE_GBM_4440 RE_GBM_4430: suspend with a reason, list with reasons, reactivate; EX_PBA_5040 liste rouge; EX_GBM_6010 delete keeps the entry', () => {
  const f = fixture();
  let reg = ops.suspendMailbox(f.env, `jean.dupont@${EX_DOMAIN}`, 'compte compromis').registry;
  assert.deepEqual(reg.get(`jean.dupont@${EX_DOMAIN}`)?.suspension, { at: '2025-06-01T10:00:00.000Z', reason: 'compte compromis', by: 'admin:alice' });
  assert.equal(reg.canUse('810000000101', `jean.dupont@${EX_DOMAIN}`).allowed, false);
  assert.deepEqual(
    reg.suspended('1130000001').map((b) => b.localPart),
    ['jean.dupont', 'laboratoire.resultats'],
  );
  assert.throws(
    () => ops.suspendMailbox(f.env, `jean.dupont@${EX_DOMAIN}`, 'again'),
    (e: unknown) => isMssError(e, 'REGISTRY_STATE'),
  );
  reg = ops.reactivateMailbox(f.env, `jean.dupont@${EX_DOMAIN}`).registry;
  assert.equal(reg.get(`jean.dupont@${EX_DOMAIN}`)?.suspension, undefined);
  assert.equal(reg.canUse('810000000101', `jean.dupont@${EX_DOMAIN}`).allowed, true);
  reg = ops.setListeRouge(f.env, `jean.dupont@${EX_DOMAIN}`, true, '810000000101').registry;
  assert.equal(reg.get(`jean.dupont@${EX_DOMAIN}`)?.listeRouge, true);
  assert.throws(
    () => ops.setListeRouge(f.env, `jean.dupont@${EX_DOMAIN}`, false, '810000000102'),
    (e: unknown) => isMssError(e, 'REGISTRY_FORBIDDEN'),
  );
  reg = ops.deleteMailbox(f.env, `jean.dupont@${EX_DOMAIN}`, 'départ').registry;
  assert.equal(reg.get(`jean.dupont@${EX_DOMAIN}`)?.status, 'deleted');
  assert.equal(reg.get(`jean.dupont@${EX_DOMAIN}`)?.deletion?.at, '2025-06-01T10:00:00.000Z');
  assert.throws(
    () => ops.reactivateMailbox(f.env, `jean.dupont@${EX_DOMAIN}`),
    (e: unknown) => isMssError(e, 'REGISTRY_STATE') && /it is deleted/.test(e.message),
  );
  assertConsistent(f);
  f.traces.close();
});

test('EX_PBA_5100: a national identifier corrected by the Annuaire replaces the old one, delegations included', () => {
  const f = fixture();
  const reg = ops.correctIdNat(f.env, `jean.dupont@${EX_DOMAIN}`, '810000000101', '810000000111', { ticket: 'T-1' }).registry;
  const b = reg.get(`jean.dupont@${EX_DOMAIN}`);
  assert.equal(b?.holder?.idNat, '810000000111');
  assert.deepEqual(
    b?.delegates.map((d) => [d.for, d.grantedBy]),
    [['810000000111', '810000000111']],
  );
  assert.equal(reg.canUse('810000000111', `jean.dupont@${EX_DOMAIN}`).role, 'holder');
  const t = f.traceLines().at(-1);
  assert.equal(t?.action, 'bal.correct-idnat');
  assert.deepEqual(t?.request, { from: '810000000101', to: '810000000111', ticket: 'T-1' });
  f.traces.close();
});

test('edits of a registry in another layout (flow style, empty file) fall back to a full Document edit', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'registry.yaml');
  fs.writeFileSync(file, '# empty registry\n');
  const traces = new TraceLog(path.join(dir, 'traces'));
  const env: ops.EditEnv = { file, load: LOAD, traces, actor: { id: 'admin:a', kind: 'admin' } };
  assert.throws(
    () => ops.addMailbox(env, per('jean.dupont', 'Jean', 'Dupont', '810000000101') as never),
    (e: unknown) => isMssError(e, 'REGISTRY_INVALID'),
    'the first file has no auto-reply BAL',
  );
  fs.writeFileSync(
    file,
    `# flow\nmailboxes: [{address: reponse.automatique-test@${DOMAIN}, type: APP, created: 2023-01-01, test: true, structure: {type: FINESS, id: "130000001"}, responsible: {name: SI}, description: auto}]\n`,
  );
  ops.addMailbox(env, per('jean.dupont', 'Jean', 'Dupont', '810000000101') as never);
  const reg = ops.suspendMailbox(env, `jean.dupont@${DOMAIN}`, 'x').registry;
  assert.equal(reg.get(`jean.dupont@${DOMAIN}`)?.status, 'suspended');
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^# flow/);
  assert.equal((parse(text) as { mailboxes: unknown[] }).mailboxes.length, 2);
  traces.close();
});

test('the compiled cache serves unchanged files and misses after a hand edit; cached and parsed loads agree', () => {
  const f = fixture([per('jean.dupont', 'Jean', 'Dupont', '810000000101'), org('secretariat')]);
  const text = fs.readFileSync(f.file, 'utf8');
  const first = loadRegistryText(f.file, text, f.env.load);
  assert.equal(first.fromCache, false);
  const second = loadRegistryText(f.file, text, f.env.load);
  assert.equal(second.fromCache, true);
  assert.deepEqual(second.registry.all(), first.registry.all());
  assert.equal(loadRegistryText(f.file, `${text}\n# hand edit\n`, f.env.load).fromCache, false);
  assert.equal(loadRegistryText(f.file, text, { ...f.env.load, finessRegistered: false }).fromCache, false, 'the configuration is part of the key');
  f.traces.close();
});

test('the holder reloads a changed registry, keeps the previous one when the new file is invalid', async () => {
  const f = fixture([per('jean.dupont', 'Jean', 'Dupont', '810000000101')]);
  const holder = await RegistryHolder.open({ file: f.file, load: f.env.load, pollMs: 0, debounceMs: 20 });
  try {
    assert.equal(holder.current().size, 2);
    // The watch does not keep the event loop alive (a daemon has other handles): a deadline does.
    let deadline: NodeJS.Timeout | undefined;
    const changed = new Promise<number>((resolve, reject) => {
      holder.onChange((r) => resolve(r.size));
      deadline = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
    });
    ops.addMailbox(f.env, org('secretariat') as never);
    assert.equal(await changed, 3, 'a CLI edit is picked up by the watch');
    clearTimeout(deadline);
    fs.writeFileSync(f.file, fs.readFileSync(f.file, 'utf8').replace('type: ORG', 'type: XXX'));
    assert.equal(await holder.reload(), false);
    assert.equal(holder.current().size, 3);
    assert.match(holder.lastError?.message ?? '', /mailboxes\[2\]\.type/);
    fs.writeFileSync(f.file, fs.readFileSync(f.file, 'utf8').replace('type: XXX', 'type: ORG').replace('# test registry', '# test registry, fixed'));
    await holder.reload(); // the watch may have done it already: check the state, not the return value
    assert.equal(holder.current().hash, contentHash(fs.readFileSync(f.file, 'utf8')), 'a hand edit (cache miss) is compiled in a worker thread');
    assert.equal(holder.current().size, 3);
    assert.equal(holder.lastError, undefined);
  } finally {
    holder.close();
    f.traces.close();
  }
});

test('EX_GDT_5030: registry changes leave a verifiable trace history', async () => {
  const f = fixture();
  ops.addDelegate(f.env, `jean.dupont@${EX_DOMAIN}`, { idNat: '810000000999' }, '810000000101');
  ops.suspendMailbox(f.env, `mdurand@${EX_DOMAIN}`, 'x');
  f.traces.close();
  const r = await verifyTraces(path.join(f.dir, 'traces'));
  assert.deepEqual(r.problems, []);
  assert.equal(r.lines, 4);
});
