// The shipped dovecot/conf.d/91-mss-mail-log.conf as it is, for tests, with only what a test
// machine changes replaced: the URL file's path (a temp directory instead of
// /var/lib/mss-sidecar), the spool writer's node and code (this checkout's dist/), its user
// (the test's, root, unless given) and its port (a free one instead of 426).
import fs from 'node:fs';
import path from 'node:path';
import { SHIPPED_ROOT } from '../../sandbox/mta/shipped-config.js';

export function dovecotEventsPiece(dir: string, o: { urlFile: string; port: number; user?: string }): string {
  const shipped = fs.readFileSync(path.join(SHIPPED_ROOT, 'dovecot', 'conf.d', '91-mss-mail-log.conf'), 'utf8');
  const replaced = shipped
    .replaceAll('/var/lib/mss-sidecar/dovecot-events.url', o.urlFile)
    .replace('/usr/bin/node ', `${process.execPath} `)
    .replace('/opt/mss-sidecar/dist/', `${path.join(SHIPPED_ROOT, 'dist')}/`)
    .replace('user = mss-sidecar', `user = ${o.user ?? 'root'}`)
    .replace(/(inet_listener mss-dovecot-events \{[^}]*port = )426/, `$1${o.port}`);
  for (const [what, still] of <Array<[string, string]>>[
    ['the URL file', '/var/lib/mss-sidecar/dovecot-events.url'],
    ['the program', '/opt/mss-sidecar/dist'],
    ['the port', 'port = 426'],
  ])
    if (replaced.includes(still)) throw new Error(`91-mss-mail-log.conf: ${what} (${still}) not replaced for the test`);
  const file = path.join(dir, '91-mss-mail-log.conf');
  fs.writeFileSync(file, replaced);
  return file;
}
