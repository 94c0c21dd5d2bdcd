// The tests depend on nothing outside them: a CLI they run without --config must not read
// /etc/mss-sidecar/config.yaml (the Debian package test installs one on this machine, and
// an operator's machine has one), and every place a test spawns the CLI says so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG_PATH } from '../../src/config/path.js';
import { NO_CONFIG, REPO_ROOT, runCli } from '../helpers/cli.js';
import { runCliAsync } from '../helpers/cli-async.js';

test("a CLI command run by a test without --config looks for its configuration in the test's temporary directory, not in /etc/mss-sidecar", async () => {
  assert.ok(!fs.existsSync(NO_CONFIG), 'nothing is ever written there');
  for (const r of [runCli(['config', 'check']), await runCliAsync(['config', 'check'])]) {
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /error CONFIG_NOT_FOUND/);
    assert.ok(r.stderr.includes(NO_CONFIG), r.stderr);
    assert.ok(!r.stderr.includes(DEFAULT_CONFIG_PATH), r.stderr);
  }
  // A test that names its own configuration still gets it.
  const own = runCli(['config', 'check'], { env: { MSS_SIDECAR_CONFIG: path.join(path.dirname(NO_CONFIG), 'own.yaml') } });
  assert.ok(own.stderr.includes('own.yaml'), own.stderr);
});

test("every test that spawns the CLI passes cliEnv() (MSS_SIDECAR_CONFIG inside the test's temporary directory)", () => {
  const testDir = path.join(REPO_ROOT, 'test');
  const sources = (fs.readdirSync(testDir, { recursive: true, encoding: 'utf8' }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.endsWith(path.join('helpers', 'cli.ts')) && !f.endsWith(path.join('helpers', 'cli-async.ts')),
  );
  const spawns = /\b(spawn|spawnSync|spawnTracked|execFile|execFileSync|fork)\(\s*process\.execPath,\s*\[[^\]]*\bCLI\b/g;
  let seen = 0;
  const missing: string[] = [];
  for (const f of sources) {
    const text = fs.readFileSync(path.join(testDir, f), 'utf8');
    for (const m of text.matchAll(spawns)) {
      seen++;
      // The call, up to its end: its options must take the environment from cliEnv().
      const call = text.slice(m.index, text.indexOf(');', m.index));
      if (!/\benv:\s*cliEnv\(/.test(call)) missing.push(`test/${f}:${text.slice(0, m.index).split('\n').length}`);
    }
  }
  assert.ok(seen >= 10, `found only ${seen} spawns of the CLI: the pattern no longer matches how tests spawn it`);
  assert.deepEqual(missing, [], 'spawns of the CLI without env: cliEnv(...)');
});
