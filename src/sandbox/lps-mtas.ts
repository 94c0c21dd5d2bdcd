// The API LPS's Dovecot and Postfix on loopback, for the sandbox and the tests: private
// instances (src/mta) running the shipped pieces — dovecot/conf.d/90-mss-lps.conf with the
// Lua passdb, the LPS submission service of postfix/*/30-submission-auth.cf and the
// submission milter of postfix/*/20-submission* — with only paths and ports replaced.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.js';
import { milterSection } from '../milter/config.js';
import type { MilterHandler } from '../milter/handler.js';
import { milterService } from '../milter/service.js';
import { DovecotInstance } from '../mta/dovecot-instance.js';
import { PostfixInstance } from '../mta/postfix-instance.js';
import { DOVECOT_LUA_SCRIPT, dovecotLpsConfig, LPS_SUBMISSION_SERVICE, postfixMainPieces, postfixServiceOptions, SHIPPED_ROOT } from '../mta/shipped-config.js';

export interface LpsMtaOptions {
  checkerUrl: string;
  /** RSA certificate and key (PEM files) of the LPS entry points. */
  certFile: string;
  keyFile: string;
  /** Ports of Dovecot's LPS IMAP listener and Postfix's LPS submission service (the fronts' backends). */
  dovecotLpsImap: number;
  submissionBackend: number;
  milterHandler: MilterHandler;
  /** Domains Postfix delivers locally (what the LPS send to). */
  domains: string[];
  log: Logger;
  /** Tests: no 2 s delay after each refused login (Dovecot's auth_failure_delay). */
  fastFailures?: boolean;
}

export interface LpsMtas {
  dovecot: DovecotInstance;
  postfix: PostfixInstance;
  stop(): Promise<void>;
}

export function lpsMtasAvailable(): { ok: boolean; missing: string[] } {
  const missing: string[] = [];
  if (!DovecotInstance.available()) missing.push('dovecot (dovecot-core, dovecot-imapd)');
  if (!fs.existsSync('/usr/lib/dovecot/modules/auth/libauthdb_lua.so')) missing.push('dovecot-auth-lua');
  if (!PostfixInstance.available()) missing.push('postfix');
  if (process.getuid?.() !== 0) missing.push('root (private Postfix instances need it)');
  return { ok: missing.length === 0, missing };
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startLpsMtas(root: string, opts: LpsMtaOptions): Promise<LpsMtas> {
  const dh = path.join(root, 'dh.pem');
  execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', dh], { stdio: 'ignore' });
  fs.chmodSync(dh, 0o644);
  const dovecotDirectImap = await freeLoopbackPort();
  const milterPort = await freeLoopbackPort();
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const dovecotDir = path.join(root, 'dovecot');
    fs.mkdirSync(dovecotDir, { recursive: true });
    const postfixSocket = path.join(dovecotDir, 'auth-postfix');
    const lpsConfFile = path.join(dovecotDir, '90-mss-lps.conf');
    // Dovecot's auth process (user dovecot) reads the script: a copy next to the instance,
    // whose directory it can traverse (the checkout may not be readable by it).
    fs.copyFileSync(path.join(SHIPPED_ROOT, 'dovecot', DOVECOT_LUA_SCRIPT), path.join(dovecotDir, DOVECOT_LUA_SCRIPT));
    fs.chmodSync(path.join(dovecotDir, DOVECOT_LUA_SCRIPT), 0o644);
    fs.writeFileSync(lpsConfFile, dovecotLpsConfig({ scriptDir: dovecotDir, checkerUrl: opts.checkerUrl, lpsImapPort: opts.dovecotLpsImap, postfixSocket }));
    const dovecot = new DovecotInstance({
      dir: dovecotDir,
      imapPort: dovecotDirectImap,
      tlsCert: opts.certFile,
      tlsKey: opts.keyFile,
      authConfig: '',
      extraConfig: [`!include ${lpsConfFile}`, `ssl_dh = <${dh}`, ...(opts.fastFailures ? ['auth_failure_delay = 0'] : [])].join('\n'),
    });
    await dovecot.start();
    stoppers.push(() => dovecot.stop());

    const milter = milterService(milterSection.parse({ listen: `inet:127.0.0.1:${milterPort}` }), opts.milterHandler, opts.log);
    await milter.start();
    stoppers.push(() => milter.stop());

    const main = postfixMainPieces();
    const endpoint = main.mss_submission_milter ?? '';
    main.mss_submission_milter = endpoint.replace(/inet:127\.0\.0\.1:\d+/, `inet:127.0.0.1:${milterPort}`);
    main.mss_lps_tls_chain_files = `${opts.keyFile} ${opts.certFile}`;
    main.mss_lps_sasl_path = postfixSocket;
    const service = [`127.0.0.1:${opts.submissionBackend} inet n - n - - smtpd`, ...postfixServiceOptions(LPS_SUBMISSION_SERVICE)].join('\n  ');
    const postfix = new PostfixInstance({ dir: path.join(root, 'postfix'), myhostname: 'lps.sandbox.invalid', main, services: [service], virtualDomains: opts.domains });
    await postfix.start();
    stoppers.push(() => postfix.stop());
    return { dovecot, postfix, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
