// EX_GBM_4230: the base of mailboxes survives a crash, never half-written (issue [registry]
// §2: "applied atomically"): a `bal add` child on a large registry is SIGKILLed inside the
// atomic replacement (test/helpers/crash-at.ts), and registry.yaml is then exactly the old
// or the new text; an I/O error before the rename leaves the old text and no temporary file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mock, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { isMssError } from '../../src/errors.js';
import * as ops from '../../src/registry/operations.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { CLI, cliEnv, REPO_ROOT } from '../helpers/cli.js';
import { DOMAIN, LOAD, bigRegistryYaml } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

const HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'crash-at.js')).href;
const BIG = bigRegistryYaml(5_000);

function site(): { dir: string; config: string; registry: string } {
  const dir = tmpDir('mss-atomic-');
  const registry = path.join(dir, 'registry.yaml');
  fs.writeFileSync(registry, BIG);
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    config,
    stringify({
      operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key' },
      trust: { dir: 'trust' },
      state: { dir: 'state' },
      registry: { file: 'registry.yaml' },
    }),
  );
  return { dir, config, registry };
}

function balAdd(config: string, crash?: string) {
  const args = [
    '--config',
    config,
    'bal',
    'add',
    '--address',
    `prenom.nouveau@${DOMAIN}`,
    '--type',
    'PER',
    '--id-nat',
    '810000099999',
    '--last-name',
    'Nouveau',
    '--first-name',
    'Prenom',
    '--structure',
    'FINESS:130000001',
    '--created',
    '2025-03-01',
    '--actor',
    'alice',
  ];
  return spawnSync(process.execPath, [...(crash ? ['--import', HOOK] : []), CLI, ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(crash ? { MSS_TEST_CRASH: crash } : {}),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('EX_GBM_4230 (atomic registry edits): `bal add` SIGKILLed while writing, before or after the rename leaves registry.yaml exactly the old or the new text', () => {
  const reference = site();
  const done = balAdd(reference.config);
  assert.equal(done.status, 0, done.stderr);
  const NEW = fs.readFileSync(reference.registry, 'utf8');
  assert.notEqual(NEW, BIG);
  assert.ok(NEW.includes(`prenom.nouveau@${DOMAIN}`));

  for (const [point, expected] of [
    ['mid-write', BIG],
    ['before-rename', BIG],
    ['after-rename', NEW],
  ] as const) {
    const s = site();
    const r = balAdd(s.config, point);
    assert.equal(r.signal, 'SIGKILL', `${point}: the child was killed (status ${r.status}, ${r.stderr.slice(-500)})`);
    const text = fs.readFileSync(s.registry, 'utf8');
    assert.ok(
      text === expected,
      `${point}: registry.yaml is ${text === BIG ? 'the old' : text === NEW ? 'the new' : `neither old nor new (${text.length} bytes)`} text`,
    );
    if (point === 'mid-write') {
      // The crash left a partial temporary file beside it, which nothing reads.
      const leftovers = fs.readdirSync(s.dir).filter((f) => f.startsWith('.registry.yaml.'));
      assert.equal(leftovers.length, 1);
      assert.ok(fs.statSync(path.join(s.dir, leftovers[0] ?? '')).size < NEW.length);
    }
    // The registry still loads, and the same command then succeeds.
    const again = balAdd(s.config);
    assert.equal(again.status, expected === BIG ? 0 : 1, again.stderr);
    assert.equal(fs.readFileSync(s.registry, 'utf8'), NEW);
  }
});

test('EX_GBM_4230 (atomic registry edits): a failure injected between the temporary file and the rename leaves the file unchanged, no temporary file, and the refusal traced', () => {
  const dir = tmpDir('mss-atomic-');
  const file = path.join(dir, 'registry.yaml');
  const OLD = bigRegistryYaml(50);
  fs.writeFileSync(file, OLD);
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0 });
  const env: ops.EditEnv = { file, load: { ...LOAD, stateDir: path.join(dir, 'state') }, traces, actor: { id: 'admin:alice', kind: 'admin', source: 'test' } };
  const rename = mock.method(fs, 'renameSync', () => {
    throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
  });
  try {
    assert.throws(
      () => ops.setDescription(env, `prenom1.nom1@${DOMAIN}`, 'Changed'),
      (e: unknown) => /EIO/.test((e as Error).message) || isMssError(e),
    );
  } finally {
    rename.mock.restore();
  }
  assert.ok(rename.mock.callCount() >= 1, 'the rename was reached');
  assert.equal(fs.readFileSync(file, 'utf8'), OLD);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'the temporary file is removed',
  );
  const t = traceLines(path.join(dir, 'traces'));
  assert.deepEqual(
    t.map((x) => [x.action, (x.response as { ok: boolean }).ok]),
    [['bal.description', false]],
  );
  traces.close();
});
