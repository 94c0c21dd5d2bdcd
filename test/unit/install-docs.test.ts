import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

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

test('every mss-sidecar command and option docs/install.md tells the IT team to run exists', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'install.md'), 'utf8');
  const commands = commandsOf(doc);
  const seen = new Set(commands.map((c) => c.words.join(' ')));
  for (const expected of ['config check', 'whitelist sync', 'crl sync', 'bal check', 'status', 'serve']) assert.ok(seen.has(expected), `the guide runs \`${expected}\``);
  const help = new Map<string, string>();
  for (const { words, options, line } of commands) {
    const key = words.join(' ');
    if (!help.has(key)) {
      const r = runCli([...words, '--help']);
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      help.set(key, r.stdout);
    }
    const text = help.get(key) ?? '';
    // An unknown subcommand exits 0 too, with its parent's help: the usage line tells.
    assert.match(text, new RegExp(`^Usage: mss-sidecar ${key}(?: |$)`, 'm'), `\`${key}\` is a command (${line})`);
    for (const option of options) assert.match(text, new RegExp(`(?:^|[ ,])${option}(?:[ ,]|$)`, 'm'), `${key} has ${option} (${line})`);
  }
});
