// The folder boundaries of tools/lint/boundaries.json and the absence of import cycles.
// ESLint (`make lint`, tools/lint/eslint.config.js) checks each file's direct imports; these
// tests check what it cannot: the ANS peers through every module they reach, cycles made of
// type-only imports; and that the lint rules do refuse what they must (a rule whose
// resolver silently fails would pass everything).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/cli.js';
import { importCycles, importGraph, tsFilesUnder } from '../helpers/import-graph.js';

const SRC = path.join(REPO_ROOT, 'src');
const SANDBOX = path.join(REPO_ROOT, 'sandbox');
const LINT = path.join(REPO_ROOT, 'tools', 'lint');

interface Zone {
  name: string;
  target: string[];
  from: string[];
  except?: string[];
}
const zones = (): Zone[] => (JSON.parse(fs.readFileSync(path.join(LINT, 'boundaries.json'), 'utf8')) as { zones: Zone[] }).zones;
const zone = (name: string): Zone => zones().find((z) => z.name === name) ?? assert.fail(`no zone ${name} in tools/lint/boundaries.json`);

test("the sandbox ANS peers (Annuaire, SIPIL, PSC, liste blanche host) reach no module of the client's rules, directly or through another module", () => {
  const peers = zone('ans-peers-not-client-rules');
  const roots = tsFilesUnder(SANDBOX).filter((f) => peers.target.some((g) => path.matchesGlob(path.relative(REPO_ROOT, f), g)));
  for (const expected of ['annuaire/server.ts', 'sipil-server.ts', 'psc/sandbox-psc.ts', 'whitelist-server.ts']) {
    assert.ok(roots.includes(path.join(SANDBOX, expected)), `the peers include sandbox/${expected}`);
  }
  const forbidden = peers.from.map((d) => path.join(REPO_ROOT, d) + path.sep);
  const leaks = [...importGraph(roots).entries()]
    .filter(([file]) => forbidden.some((f) => file.startsWith(f)))
    .map(([, chain]) => chain.map((c) => path.relative(REPO_ROOT, c)).join(' → '));
  assert.deepEqual(leaks, []);
});

test("the sandbox ANS peers read the liste blanche with the sandbox's reader: of the client's src/whitelist they reach only the zone's exceptions (the guarded XML parser), directly or through another module", () => {
  const peers = zone('ans-peers-not-client-whitelist');
  const roots = tsFilesUnder(SANDBOX).filter((f) => peers.target.some((g) => path.matchesGlob(path.relative(REPO_ROOT, f), g)));
  for (const expected of [
    'whitelist-reader.ts',
    'whitelist-source.ts',
    'sipil-server.ts',
    'annuaire/component.ts',
    'annuaire/server.ts',
    'whitelist-server.ts',
  ]) {
    assert.ok(roots.includes(path.join(SANDBOX, expected)), `the peers include sandbox/${expected}`);
  }
  const forbidden = peers.from.map((d) => path.join(REPO_ROOT, d) + path.sep);
  const allowed = new Set(peers.from.flatMap((d) => (peers.except ?? []).map((e) => path.join(REPO_ROOT, d, e))));
  const reached = [...importGraph(roots).entries()].filter(([file]) => forbidden.some((f) => file.startsWith(f)));
  assert.deepEqual(
    reached.filter(([file]) => !allowed.has(file)).map(([, chain]) => chain.map((c) => path.relative(REPO_ROOT, c)).join(' → ')),
    [],
  );
  // The client's verifier, index and configuration are not among the exceptions (issue #19's debt, paid).
  for (const rule of ['verify.ts', 'whitelist-index.ts', 'config.ts', 'signature.ts'])
    assert.ok(!peers.except?.includes(`./${rule}`), `${rule} is not an exception`);
});

test('no import cycle in src/, sandbox/, test/, bench/ or scripts/, type-only imports included', () => {
  const files = ['src', 'sandbox', 'test', 'bench', 'scripts'].flatMap((d) => tsFilesUnder(path.join(REPO_ROOT, d)));
  assert.deepEqual(
    importCycles(files).map((c) => c.map((f) => path.relative(REPO_ROOT, f)).join(' ↔ ')),
    [],
  );
});

/** Writes probe modules in a scratch folder under src/ (removed after), returns their paths. */
function withProbes<T>(files: Record<string, string>, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(SRC, '.boundary-probe-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return run(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test('the import graph follows type-only, re-exported and dynamic imports, and finds a cycle made of type imports', async () => {
  await withProbes(
    {
      'a.ts': "import type { X } from './b.js';\nimport { load } from './c.js';\n",
      'b.ts': "export * from '../annuaire/contract.js';\nexport type { Y } from './a.js';\n",
      'c.ts': "export const load = () => import('../stats/format.js');\n",
    },
    async (dir) => {
      const reached = [...importGraph([path.join(dir, 'a.ts')]).keys()].map((f) => path.relative(SRC, f));
      assert.ok(reached.includes(path.join('annuaire', 'contract.ts')), reached.join(', '));
      assert.ok(reached.includes(path.join('stats', 'format.ts')), reached.join(', '));
      assert.deepEqual(importCycles(tsFilesUnder(dir)), [[path.join(dir, 'a.ts'), path.join(dir, 'b.ts')]]);
    },
  );
});

interface LintMessage {
  ruleId: string | null;
  message: string;
}
interface EslintApi {
  ESLint: new (opts: { cwd: string; overrideConfigFile: string; overrideConfig?: { rules: Record<string, string> } }) => {
    lintText(text: string, opts: { filePath: string }): Promise<Array<{ messages: LintMessage[] }>>;
  };
}

test('ESLint refuses a forbidden import in each zone, an import cycle and an import that does not resolve', async () => {
  const api = path.join(LINT, 'node_modules', 'eslint', 'lib', 'api.js');
  assert.ok(fs.existsSync(api), 'the lint tools are installed (make lint-deps)');
  const { ESLint } = (await import(pathToFileURL(api).href)) as EslintApi;
  const configFile = path.join(LINT, 'eslint.config.js');
  // no-cycle follows every import through the tree (seconds of CPU): only for the cycle probe.
  const boundaryLint = new ESLint({ cwd: REPO_ROOT, overrideConfigFile: configFile, overrideConfig: { rules: { 'import-x/no-cycle': 'off' } } });
  const fullLint = new ESLint({ cwd: REPO_ROOT, overrideConfigFile: configFile });
  /** The rules that fire on `text` as if it were the file `file` (relative to the repository). */
  const rules = async (file: string, text: string, eslint = boundaryLint): Promise<string[]> => {
    const [result] = await eslint.lintText(text, { filePath: path.join(REPO_ROOT, file) });
    return (result?.messages ?? []).map(
      (m) => `${m.ruleId ?? 'fatal'}${m.ruleId === 'import-x/no-restricted-paths' ? ` ${/\[([a-z-]+)\]/.exec(m.message)?.[1]}` : ''}`,
    );
  };
  const zoneRule = (name: string): string => `import-x/no-restricted-paths ${zone(name).name}`;
  assert.deepEqual(await rules('src/daemon/probe.ts', "export { generateTestPki } from '../../sandbox/pki.js';\n"), [zoneRule('production-not-simulator')]);
  assert.deepEqual(await rules('src/util/probe.ts', "export { SmtpClient } from '../../sandbox/mta/smtp-client.js';\n"), [
    zoneRule('production-not-simulator'),
  ]);
  assert.deepEqual(
    await rules('src/cli/sandbox-commands.ts', "export const load = () => import('../../sandbox/run.js');\n"),
    [zoneRule('production-not-simulator')],
    'not even the sandbox command imports the sandbox: it goes through the door, which loads it by URL',
  );
  assert.deepEqual(
    await rules('src/pki/probe.ts', "import forge from 'node-forge';\nexport const f = forge;\n"),
    ['no-restricted-imports'],
    "node-forge is the sandbox's",
  );
  assert.deepEqual(await rules('sandbox/probe.ts', "import forge from 'node-forge';\nexport const f = forge;\n"), []);
  assert.deepEqual(await rules('src/store/probe.ts', "export { loadRegistry } from '../registry/load.js';\n"), [zoneRule('pki-store-know-no-business-rule')]);
  assert.deepEqual(await rules('src/pki/probe.ts', "export { DEFAULT_ANS_SIGNER_SUBJECT } from '../whitelist/config.js';\n"), [
    zoneRule('pki-store-know-no-business-rule'),
  ]);
  assert.deepEqual(await rules('sandbox/sipil-probe.ts', "export { parseMonth } from '../src/stats/month.js';\n"), [zoneRule('ans-peers-not-client-rules')]);
  assert.deepEqual(await rules('sandbox/annuaire/probe.ts', "export { publish } from '../../src/annuaire/publish.js';\n"), [
    zoneRule('ans-peers-not-client-rules'),
  ]);
  assert.deepEqual(await rules('sandbox/whitelist-probe.ts', "export { syncWhitelist } from '../src/whitelist/sync.js';\n"), [
    zoneRule('ans-peers-not-client-whitelist'),
  ]);
  assert.deepEqual(await rules('sandbox/whitelist-probe.ts', "export { LIST_NS } from '../src/whitelist/xml.js';\n"), [], 'the format is shared');
  // The client's reading of the list, re-imported by a peer that used to rely on it (issue #19).
  for (const [file, text] of [
    ['sandbox/whitelist-source.ts', "export { verifyWhitelist } from '../src/whitelist/verify.js';\n"],
    ['sandbox/sipil-server.ts', "export type { WhitelistIndex } from '../src/whitelist/whitelist-index.js';\n"],
    ['sandbox/annuaire/component.ts', "export { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';\n"],
    ['sandbox/sign-whitelist.ts', "export { ALG } from '../src/whitelist/signature.js';\n"],
  ] as const) {
    assert.deepEqual(await rules(file, text), [zoneRule('ans-peers-not-client-whitelist')], `${file}: ${text.trim()}`);
  }
  assert.deepEqual(await rules('src/gate/probe.ts', "export { x } from './no-such-module.js';\n"), ['import-x/no-unresolved']);
  await withProbes(
    { 'a.ts': "import { b } from './b.js';\nexport const a = () => b;\n", 'b.ts': "import { a } from './a.js';\nexport const b = () => a;\n" },
    async (dir) => {
      assert.deepEqual(await rules(path.relative(REPO_ROOT, path.join(dir, 'a.ts')), fs.readFileSync(path.join(dir, 'a.ts'), 'utf8'), fullLint), [
        'import-x/no-cycle',
      ]);
    },
  );
});

test('src/cli/sandbox-door.ts is the one file of src/ that names a module of the sandbox, and names only its door', () => {
  // A module path into sandbox/ from anywhere in src/ ('../sandbox/…', '../../sandbox/…').
  const intoSandbox = /['"`](?:\.\.\/)+sandbox\/[^'"`]*['"`]/g;
  const naming = tsFilesUnder(SRC)
    .map((f) => [path.relative(REPO_ROOT, f), fs.readFileSync(f, 'utf8').match(intoSandbox) ?? []] as const)
    .filter(([, found]) => found.length > 0);
  assert.deepEqual(naming, [['src/cli/sandbox-door.ts', ["'../../sandbox/door.js'"]]]);
});
