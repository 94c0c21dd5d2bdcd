// Generates the compliance matrix — requirement ID → where the code enforces it → which tests
// name it — from the sources themselves, so that it cannot drift from the code. Two files:
// docs/COMPLIANCE.md, one line per ID (readable, each ID a link to its details), and
// docs/COMPLIANCE-details.md, every place and every test of each ID, linked.
//   node dist/scripts/compliance.js           rewrite both
//   node dist/scripts/compliance.js --check   exit 1 if either is stale, or if an ID cited in the
//                                             code or shipped configuration is named by no test
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testTitles } from './test-titles.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ID_PATTERN = /\b(?:EX|RE)[_ ](?:[A-Z]{2,4}|[0-9](?:\.[0-9]+)*)_[0-9]{3,4}\b/g;

interface Requirement {
  id: string;
  section: string;
  summary: string;
  scope: string;
}

export interface Matrix {
  requirements: Requirement[];
  code: Map<string, string[]>;
  tests: Map<string, string[]>;
  notes: Map<string, string>;
}

const normalise = (id: string): string => id.replace(' ', '_');

function readTsv(file: string): string[][] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, keep, out);
    else if (keep(entry.name)) out.push(p);
  }
  return out.sort();
}

const isTs = (name: string): boolean => name.endsWith('.ts');
const anyFile = (): boolean => true;
/** Where enforcement lives: the code, and the Postfix/Dovecot/systemd configuration shipped. Not
 * sandbox/: the simulator checks the product, it enforces nothing of it. */
const ENFORCEMENT_DIRS: Array<[string, (name: string) => boolean]> = [
  ['src', isTs],
  ['postfix', anyFile],
  ['dovecot', anyFile],
  ['systemd', anyFile],
];

function add(map: Map<string, string[]>, id: string, where: string): void {
  const list = map.get(id) ?? [];
  if (!list.includes(where)) list.push(where);
  map.set(id, list);
}

export function buildMatrix(root = ROOT): Matrix {
  const requirements: Requirement[] = [];
  for (const file of ['docs/requirements.tsv', 'docs/requirements-extra.tsv']) {
    for (const [id, section, , summary, scope] of readTsv(path.join(root, file))) {
      if (id) requirements.push({ id, section: section ?? '', summary: summary ?? '', scope: scope ?? '' });
    }
  }
  const code = new Map<string, string[]>();
  const sources = ENFORCEMENT_DIRS.flatMap(([dir, keep]) => walk(path.join(root, dir), keep));
  for (const file of sources) {
    const rel = path.relative(root, file);
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(ID_PATTERN)) add(code, normalise(m[0]), `${rel}:${i + 1}`);
      });
  }
  const tests = new Map<string, string[]>();
  for (const file of walk(path.join(root, 'test'), isTs)) {
    const rel = path.relative(root, file);
    // Template titles come out rendered, one per value of their loop (test-titles.ts).
    for (const title of testTitles(fs.readFileSync(file, 'utf8'))) {
      for (const m of title.matchAll(ID_PATTERN)) add(tests, normalise(m[0]), `${rel} › ${title}`);
    }
  }
  const notes = new Map<string, string>();
  for (const [id, note] of readTsv(path.join(root, 'docs/compliance-notes.tsv'))) if (id && note) notes.set(id, note);
  return { requirements, code, tests, notes };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The two generated files, relative to the repository. */
export const MATRIX_FILES = { summary: 'docs/COMPLIANCE.md', details: 'docs/COMPLIANCE-details.md' } as const;
export type Rendered = Record<keyof typeof MATRIX_FILES, string>;

/** `src/gate/x.ts:12` → a link from docs/ to that line. */
function placeLink(place: string): string {
  const m = /^(.*):(\d+)$/.exec(place);
  return m ? `[${place}](../${m[1]}#L${m[2]})` : `\`${place}\``;
}

/** `test/unit/x.test.ts › title` → the file linked, then the title. */
function testLink(entry: string): string {
  const [file, ...title] = entry.split(' › ');
  return `[${file}](../${file}) › ${cell(title.join(' › '))}`;
}

function unknownIds(m: Matrix): string[] {
  const known = new Set(m.requirements.map((r) => r.id));
  return [...new Set([...m.code.keys(), ...m.tests.keys()])].filter((id) => !known.has(id)).sort();
}

export function render(m: Matrix): Rendered {
  return { summary: renderSummary(m), details: renderDetails(m) };
}

function renderSummary(m: Matrix): string {
  const lines: string[] = [];
  const enforced = m.requirements.filter((r) => m.code.has(r.id)).length;
  const tested = m.requirements.filter((r) => m.tests.has(r.id)).length;
  lines.push('# Compliance matrix — Référentiel #1 v1.6.0');
  lines.push('');
  lines.push('Generated by `make compliance` from the sources (`scripts/compliance.ts`); do not edit by hand.');
  lines.push('One line per requirement: where the code cites it (`src/`, `postfix/`, `dovecot/`, `systemd/`) and how many tests');
  lines.push('name it in their title. Each ID links to its details — every place and every test, linked — in');
  lines.push('[COMPLIANCE-details.md](COMPLIANCE-details.md). Notes: `docs/compliance-notes.tsv`. Requirement texts:');
  lines.push('`docs/requirements.tsv` (the §8 table) and `docs/requirements-extra.tsv` (body-only IDs and recommendations).');
  lines.push('');
  lines.push(`Requirements: ${m.requirements.length}; cited in code: ${enforced}; named by a test: ${tested}.`);
  lines.push('');
  lines.push('| ID | § | Scope | Requirement | Enforced in | Tests | Note |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const r of m.requirements) {
    const places = m.code.get(r.id) ?? [];
    const files = [...new Set(places.map((p) => p.replace(/:\d+$/, '')))];
    // The files, linked (the lines are in the details): three at most, then how many more.
    const where =
      files
        .slice(0, 3)
        .map((f) => `[${f}](../${f})`)
        .join(', ') + (files.length > 3 ? `, ${files.length - 3} more` : '');
    const tests = m.tests.get(r.id)?.length ?? 0;
    lines.push(
      `| [${r.id}](COMPLIANCE-details.md#${r.id}) | ${cell(r.section)} | ${r.scope} | ${cell(r.summary)} | ${where} | ${tests || ''} | ${m.notes.has(r.id) ? `[yes](COMPLIANCE-details.md#${r.id})` : ''} |`,
    );
  }
  const unknown = unknownIds(m);
  if (unknown.length > 0) {
    lines.push('');
    lines.push('## IDs cited but not in the requirement lists');
    lines.push('');
    for (const id of unknown) lines.push(`- ${id}`);
  }
  lines.push('');
  return lines.join('\n');
}

function renderDetails(m: Matrix): string {
  const lines: string[] = [];
  lines.push('# Compliance matrix — details');
  lines.push('');
  lines.push('Generated by `make compliance` with [COMPLIANCE.md](COMPLIANCE.md) (`scripts/compliance.ts`); do not edit by hand.');
  lines.push('For each requirement: every place that cites it and every test whose title names it. A title written as a');
  lines.push('template is listed once per value of its loop; «expression» stands for what only a run knows.');
  for (const r of m.requirements) {
    lines.push('');
    lines.push(`<a id="${r.id}"></a>`);
    lines.push('');
    lines.push(`## ${r.id} (§ ${r.section}, ${r.scope})`);
    lines.push('');
    lines.push(r.summary);
    const places = m.code.get(r.id) ?? [];
    const tests = m.tests.get(r.id) ?? [];
    lines.push('');
    lines.push(places.length === 0 ? 'Enforced in: cited nowhere in the code.' : 'Enforced in:');
    for (const p of places) lines.push(`- ${placeLink(p)}`);
    lines.push('');
    lines.push(tests.length === 0 ? 'Tested by: no test title names it.' : 'Tested by:');
    for (const t of tests) lines.push(`- ${testLink(t)}`);
    const note = m.notes.get(r.id);
    if (note) {
      lines.push('');
      lines.push(`Note: ${note}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** Problems that make `--check` fail. */
export function problems(m: Matrix, onDisk: Rendered): string[] {
  const out: string[] = [];
  const fresh = render(m);
  for (const k of Object.keys(MATRIX_FILES) as Array<keyof typeof MATRIX_FILES>) {
    if (onDisk[k] !== fresh[k]) out.push(`${MATRIX_FILES[k]} is stale: run \`make compliance\` and commit it`);
  }
  for (const id of [...m.code.keys()].sort()) {
    if (!m.tests.has(id))
      out.push(`${id} is cited in ${(m.code.get(id) ?? [''])[0]?.split('/')[0]}/ (${(m.code.get(id) ?? [])[0]}) but no test title names it`);
  }
  return out;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
/** The two files as they are in `root` ('' for a missing one). */
export function matrixOnDisk(root = ROOT): Rendered {
  const read = (f: string): string => (fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f), 'utf8') : '');
  return { summary: read(MATRIX_FILES.summary), details: read(MATRIX_FILES.details) };
}

if (isMain) {
  const matrix = buildMatrix();
  if (process.argv.includes('--check')) {
    const found = problems(matrix, matrixOnDisk());
    for (const p of found) process.stderr.write(`compliance: ${p}\n`);
    process.exitCode = found.length > 0 ? 1 : 0;
  } else {
    const rendered = render(matrix);
    for (const k of Object.keys(MATRIX_FILES) as Array<keyof typeof MATRIX_FILES>) {
      fs.writeFileSync(path.join(ROOT, MATRIX_FILES[k]), rendered[k]);
      process.stdout.write(`wrote ${MATRIX_FILES[k]}\n`);
    }
  }
}
