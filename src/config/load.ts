// Load and validate the configuration. Every problem is reported at once, each naming the
// file, line, key, the value found and what was expected, and the process stops before
// doing anything with a half-valid configuration.
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { MssError } from '../errors.js';
import { withBaseDir } from './atoms.js';
import { configSchema, type Config } from './schema.js';

export { DEFAULT_CONFIG_PATH, configPathFrom } from './path.js';

export interface ConfigProblem {
  key: string;
  line?: number;
  found: string;
  expected: string;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MssError(
      code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_UNREADABLE',
      code === 'ENOENT'
        ? `configuration file ${file} does not exist (pass --config FILE, set MSS_SIDECAR_CONFIG, or try the sandbox: make sandbox)`
        : `cannot read configuration file ${file}: ${(err as Error).message}`,
      { file },
    );
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw new MssError('CONFIG_YAML_INVALID', `configuration file is not valid YAML:\n  ${problems.join('\n  ')}`, { file, problems });
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = withBaseDir(path.dirname(path.resolve(file)), () => configSchema.safeParse(raw, { reportInput: true }));
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue) => describeIssue(issue, doc, lines)).sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  const text2 = problems.map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.key}: found ${p.found}, expected ${p.expected}`).join('\n  ');
  throw new MssError('CONFIG_INVALID', `invalid configuration:\n  ${text2}`, { file, problems });
}

function describeIssue(issue: z.core.$ZodIssue, doc: ReturnType<typeof parseDocument>, lines: LineCounter): ConfigProblem {
  const keyPath = issue.path.map(String);
  let key = keyPath.join('.') || '(top level)';
  let found = show((issue as { input?: unknown }).input);
  let expected = issue.message;
  if (issue.code === 'invalid_type') {
    expected = `a value of type ${issue.expected}`;
    if ((issue as { input?: unknown }).input === undefined) found = 'nothing (the key is missing)';
  } else if (issue.code === 'unrecognized_keys') {
    key = keyPath
      .concat(issue.keys[0] ?? '')
      .filter(Boolean)
      .join('.');
    found = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    expected = 'only documented keys (check the spelling; see docs/configuration.md)';
    keyPath.push(issue.keys[0] ?? '');
  } else if (issue.code === 'invalid_value') {
    expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (issue.code === 'too_small' || issue.code === 'too_big') {
    expected = issue.message.replace(/^Too (small|big): expected /, '');
  }
  const node = doc.getIn(keyPath, true);
  const line = isNode(node) && node.range ? lines.linePos(node.range[0]).line : undefined;
  return line === undefined ? { key, found, expected } : { key, line, found, expected };
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  const s = json === undefined ? String(value) : json;
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
