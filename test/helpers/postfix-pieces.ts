// Reads the Postfix pieces shipped in postfix/ so integration tests run Postfix with the
// settings we ship (on a test listener and a test milter port) rather than with a copy.
// The same syntax rules as scripts/postfix-apply.sh: logical lines, `#` comments.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

const PIECES = path.join(REPO_ROOT, 'postfix');

function logicalLines(file: string): string[] {
  const out: string[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*#/.test(raw) || raw.trim() === '') continue;
    if (/^\s/.test(raw) && out.length > 0) out[out.length - 1] += ` ${raw.trim()}`;
    else out.push(raw.trimEnd());
  }
  return out;
}

function splitAssignment(line: string): [string, string] {
  const eq = line.indexOf('=');
  return [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
}

/** Every `name = value` of postfix/main.cf.d/*.cf. */
export function mainPieces(): Record<string, string> {
  const dir = path.join(PIECES, 'main.cf.d');
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cf')).sort()) {
    for (const line of logicalLines(path.join(dir, f))) {
      const [k, v] = splitAssignment(line);
      out[k] = v;
    }
  }
  return out;
}

/** The `-o name=value` options postfix/master.cf.d/*.cf sets on a service (`submission/inet`). */
export function serviceOptions(service = 'submission/inet'): string[] {
  const dir = path.join(PIECES, 'master.cf.d');
  const out: string[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cf')).sort()) {
    for (const line of logicalLines(path.join(dir, f))) {
      if (!line.startsWith(`${service}/`)) continue;
      const [k, v] = splitAssignment(line);
      out.push(`-o ${k.slice(service.length + 1)}=${v}`);
    }
  }
  return out;
}

/** main.cf pieces with the milter endpoint moved to a test port. */
export function mainPiecesForMilter(milter: string): Record<string, string> {
  const main = mainPieces();
  const endpoint = main.mss_submission_milter;
  if (!endpoint || !/inet:127\.0\.0\.1:\d+/.test(endpoint)) throw new Error('postfix/main.cf.d: mss_submission_milter not found');
  return { ...main, mss_submission_milter: endpoint.replace(/inet:127\.0\.0\.1:\d+/, milter) };
}

/** A loopback listener configured like the shipped submission service. */
export function submissionListener(port: number): string {
  return [`127.0.0.1:${port} inet n - n - - smtpd`, ...serviceOptions()].join('\n  ');
}
