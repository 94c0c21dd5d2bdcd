import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { helpOf, listsOption } from '../helpers/cli-program.js';

/** The code of a Markdown file: fenced blocks and inline code spans. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
  const prose = markdown.replace(/^```[a-z]*\n[\s\S]*?^```/gm, '');
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
  return [...fenced.flatMap((b) => b.split('\n')), ...inline];
}

/** Each `mss-sidecar <command words> [--options…]` written in the code of docs/install.md. */
function commandsOf(markdown: string): Array<{ words: string[]; options: string[]; line: string }> {
  const out: Array<{ words: string[]; options: string[]; line: string }> = [];
  for (const line of codeOf(markdown)) {
    const code = line.replace(/\s+#\s.*$/, '');
    // The lookahead lets `sudo -u mss-sidecar mss-sidecar status` match at both names.
    for (const m of code.matchAll(/(?:^|\s|bin\/)mss-sidecar(?=((?: [^\s;&|]+)*))/g)) {
      const tokens = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
      const words: string[] = [];
      for (const t of tokens) {
        if (!/^[a-z][a-z-]*$/.test(t) || t === 'mss-sidecar') break;
        words.push(t);
      }
      if (tokens[0] === 'mss-sidecar' || words.length === 0) continue;
      const options = tokens.filter((t) => /^--[a-z][a-z-]*$/.test(t));
      out.push({ words, options, line });
    }
  }
  return out;
}

test('every mss-sidecar command and option docs/install.md tells the IT team to run exists', async () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'install.md'), 'utf8');
  const commands = commandsOf(doc);
  const seen = new Set(commands.map((c) => c.words.join(' ')));
  for (const expected of ['config check', 'whitelist sync', 'crl sync', 'bal check', 'status', 'serve'])
    assert.ok(seen.has(expected), `the guide runs \`${expected}\``);
  for (const { words, options, line } of commands) {
    const help = await helpOf(words);
    assert.ok(help !== undefined, `\`${words.join(' ')}\` is a command (${line})`);
    for (const option of options) assert.ok(listsOption(help, option), `${words.join(' ')} has ${option} (${line})`);
  }
});

const INSTALL = (): string => fs.readFileSync(path.join(REPO_ROOT, 'docs', 'install.md'), 'utf8');

/** Code lines (fenced blocks and inline spans) in the order a reader meets them. */
function codeInOrder(markdown: string): string[] {
  const out: Array<[number, string]> = [];
  for (const m of markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)) (m[1] as string).split('\n').forEach((l, i) => out.push([(m.index ?? 0) + i, l]));
  const prose = markdown.replace(/^```[a-z]*\n[\s\S]*?^```/gm, (b) => ' '.repeat(b.length));
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) out.push([m.index ?? 0, m[1] as string]);
  return out.sort((a, b) => a[0] - b[0]).map(([, l]) => l);
}

test('docs/install.md installs sudo before the first command that runs through it', () => {
  const lines = codeInOrder(INSTALL());
  const installs = lines.findIndex((l) => /^apt-get install\b.*\bsudo\b/.test(l.replace(/\s+#.*$/, '')));
  const uses = lines.findIndex((l) => /(^|[;&|]\s*)sudo\s/.test(l.replace(/\s+#.*$/, '')));
  assert.ok(installs >= 0, 'sudo is installed');
  assert.ok(uses > installs, `sudo is used on "${lines[uses]}" before "${lines[installs]}" installs it`);
});

test('docs/install.md checks out a release it names as a placeholder, or a tag that exists', () => {
  const tags = new Set(spawnSync('git', ['-C', REPO_ROOT, 'tag', '-l'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
  const versions = [...INSTALL().matchAll(/^V=(\S+)/gm)].map((m) => m[1] as string);
  assert.ok(versions.length >= 2, 'install and upgrade');
  for (const v of versions) assert.ok(/^<[a-z-]+>$/.test(v) || tags.has(v), `V=${v}: no such tag (git tag -l); write a placeholder such as <release>`);
});

test('EX_GBM_4440 EX_GBM_6010: the configuration of docs/install.md sets lifecycle.activityKnownSince (no mass notices on the first night) and is valid', () => {
  const block = /^## 5\. Configuration[\s\S]*?^```yaml\n([\s\S]*?)^```/m.exec(INSTALL())?.[1] ?? '';
  const config = parseConfigText(block, '/etc/mss-sidecar/config.yaml');
  assert.match(config.lifecycle.activityKnownSince ?? '', /^\d{4}-\d\d-\d\d$/);
  assert.ok(config.lifecycle.maxActionsPerRun > 0);
});
