// The Postfix and Dovecot pieces shipped in postfix/ and dovecot/, read the way
// scripts/postfix-apply.sh and an administrator's `!include` use them, so that the sandbox
// and the tests run Postfix and Dovecot with the settings we ship rather than with a copy.
// Postfix syntax: logical lines (continuations start with whitespace), `#` comments.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installation (or repository) root: dist/sandbox/mta/ → ../../.. */
export const SHIPPED_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function logicalLines(file: string): string[] {
  const out: string[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*#/.test(raw) || raw.trim() === '') continue;
    if (/^\s/.test(raw) && out.length > 0) out[out.length - 1] += ` ${raw.trim()}`;
    else out.push(raw.trimEnd());
  }
  return out;
}

/** `name = value`, or `name += value` (the value put first in a list parameter: see postfix-apply.sh). */
function splitAssignment(line: string): [string, string] {
  const eq = line.indexOf('=');
  return [
    line
      .slice(0, eq)
      .trim()
      .replace(/\s*\+$/, ''),
    line.slice(eq + 1).trim(),
  ];
}

function pieces(kind: 'main.cf.d' | 'master.cf.d', root: string): string[] {
  const dir = path.join(root, 'postfix', kind);
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.cf'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Every `name = value` of postfix/main.cf.d/*.cf, with the piece that sets it, in the order applied. */
export function postfixMainDefinitions(root = SHIPPED_ROOT): Array<{ file: string; name: string; value: string }> {
  return pieces('main.cf.d', root).flatMap((file) =>
    logicalLines(file).map((line) => {
      const [name, value] = splitAssignment(line);
      return { file: path.basename(file), name, value };
    }),
  );
}

/** Every `name = value` of postfix/main.cf.d/*.cf (a later piece wins, as with postconf -e). */
export function postfixMainPieces(root = SHIPPED_ROOT): Record<string, string> {
  return Object.fromEntries(postfixMainDefinitions(root).map((d) => [d.name, d.value]));
}

/** The `-o name=value` options postfix/master.cf.d/*.cf sets on a service (`127.0.0.1:10587/inet`). */
export function postfixServiceOptions(service: string, root = SHIPPED_ROOT): string[] {
  const out: string[] = [];
  for (const file of pieces('master.cf.d', root)) {
    for (const line of logicalLines(file)) {
      if (!line.startsWith(`${service}/`)) continue;
      const [k, v] = splitAssignment(line);
      out.push(`-o ${k.slice(service.length + 1)}=${v}`);
    }
  }
  return out;
}

/** The master.cf entry of a service (`mss-gate-out/unix`) as a piece writes it, continuation lines joined. */
export function postfixServiceEntry(service: string, root = SHIPPED_ROOT): string | undefined {
  const [name, type] = service.split('/');
  for (const file of pieces('master.cf.d', root)) {
    for (const line of logicalLines(file)) {
      const [n, t] = line.split(/\s+/);
      if (n === name && t === type && !line.startsWith(`${service}/`)) return line;
    }
  }
  return undefined;
}

/** The services postfix/master.cf.d/*.cf turns off (`disable smtp/inet`). */
export function postfixDisabledServices(root = SHIPPED_ROOT): string[] {
  return pieces('master.cf.d', root).flatMap((file) =>
    logicalLines(file)
      .map((line) => /^disable\s+(\S+)$/.exec(line)?.[1])
      .filter((s): s is string => s !== undefined),
  );
}

export const DOVECOT_LUA_SCRIPT = 'mss-lps-auth.lua';
/** The passdb piece, linked into conf.d so that it comes before the site's passdbs. */
export const DOVECOT_PASSDB_PIECE = '05-mss-lps-passdb.conf';
/** The rest of the API LPS settings, included last. */
export const DOVECOT_LPS_PIECE = '90-mss-lps.conf';

/** dovecot/conf.d/05-mss-lps-passdb.conf with the Lua script's directory replaced. */
export function dovecotPassdbConfig(opts: { scriptDir: string }, root = SHIPPED_ROOT): string {
  return fs.readFileSync(path.join(root, 'dovecot', 'conf.d', DOVECOT_PASSDB_PIECE), 'utf8').replaceAll('/opt/mss-sidecar/dovecot/', `${opts.scriptDir}/`);
}

/**
 * dovecot/conf.d/90-mss-lps.conf with its site-specific values replaced: the directory of
 * the Lua script (Dovecot's unprivileged auth process must be able to read it, so callers
 * copy dovecot/mss-lps-auth.lua there), the checker URL, the LPS listener port and Postfix's
 * SASL socket.
 */
export function dovecotLpsConfig(opts: { scriptDir: string; checkerUrl: string; lpsImapPort: number; postfixSocket: string }, root = SHIPPED_ROOT): string {
  return fs
    .readFileSync(path.join(root, 'dovecot', 'conf.d', DOVECOT_LPS_PIECE), 'utf8')
    .replaceAll('/opt/mss-sidecar/dovecot/', `${opts.scriptDir}/`)
    .replace('MSS_AUTH_CHECKER_URL=http://127.0.0.1:425/v1/xoauth2', `MSS_AUTH_CHECKER_URL=${opts.checkerUrl}`)
    .replace('port = 243', `port = ${opts.lpsImapPort}`)
    .replace('/var/spool/postfix/private/auth', opts.postfixSocket);
}
