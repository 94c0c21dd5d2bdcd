// scripts/postfix-apply.sh run on a private Postfix instance's configuration, as docs/install.md
// step 7 runs it on /etc/postfix, then the site-specific values of the pieces replaced with
// postconf (the sockets, ports and files of this instance): the bypass suite's Postfix is the
// one an administrator gets, not a copy of the pieces.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../../src/errors.js';
import { SUBMISSION_SERVICE, type PostfixSite, shippedPostfix } from './postfix-pieces.js';
import { SHIPPED_ROOT } from './shipped-config.js';

export const POSTFIX_APPLY_SCRIPT = path.join(SHIPPED_ROOT, 'scripts', 'postfix-apply.sh');

/** Run the script on `configDir`; its output. `env`: MSS_SIDECAR, MSS_SIDECAR_CONFIG for the routing check. */
export function runPostfixApply(configDir: string, env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const r = spawnSync('bash', [POSTFIX_APPLY_SCRIPT, '-c', configDir], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new MssError('POSTFIX_APPLY', `postfix-apply.sh -c ${configDir} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** After the script: this instance's sockets, ports and files in place of the shipped defaults. */
export function localisePieces(configDir: string, site: PostfixSite): void {
  const shipped = shippedPostfix(site).main;
  const names = ['default_transport', 'mss_submission_milter', 'mss_submission_tls_chain_files', 'mss_submission_sasl_path'] as const;
  const set = spawnSync('postconf', ['-c', configDir, '-e', ...names.map((n) => `${n} = ${shipped[n] ?? ''}`)], { encoding: 'utf8' });
  if (set.status !== 0) throw new MssError('POSTFIX_APPLY', `postconf -e in ${configDir} failed: ${set.stderr}`);
  // The LPS submission service on this instance's port (the service name is its address).
  const master = path.join(configDir, 'master.cf');
  const [shippedName] = SUBMISSION_SERVICE.split('/');
  fs.writeFileSync(
    master,
    fs.readFileSync(master, 'utf8').replace(new RegExp(`^${(shippedName as string).replace(/\./g, '\\.')}(?=\\s)`, 'm'), `127.0.0.1:${site.submissionPort}`),
  );
}
