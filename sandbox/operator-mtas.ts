// One simulated operator's mail servers, as a hospital runs them next to mss-sidecar: one
// Postfix with every shipped piece of postfix/ (the gate's listener, the transport to the
// outbound gate, the LPS submission service behind the front with the milter) delivering the
// operator's domains to Dovecot over LMTP, and one Dovecot with dovecot/conf.d/90-mss-lps.conf
// (the Lua passdb asking the sidecar, the LPS IMAP listener behind the front, the SASL
// socket for Postfix). Private instances (sandbox/mta) on loopback ports; only ports and paths
// differ from what an administrator installs.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeDebianDovecot, type DebianDovecotOptions } from './mta/dovecot-debian.js';
import { DovecotInstance } from './mta/dovecot-instance.js';
import { PostfixInstance } from './mta/postfix-instance.js';
import { localisePieces, runPostfixApply } from './mta/postfix-apply.js';
import { GATE_LISTENER_SOCKET, shippedPostfix } from './mta/postfix-pieces.js';
import { DOVECOT_LPS_PIECE, DOVECOT_LUA_SCRIPT, DOVECOT_PASSDB_PIECE, dovecotLpsConfig, dovecotPassdbConfig, SHIPPED_ROOT } from './mta/shipped-config.js';

export interface OperatorMtaPorts {
  /** Postfix's LPS submission service (auth.front.submission.backend). */
  submission: number;
  /** The submission milter (milter.listen). */
  milter: number;
  /** Dovecot's LPS IMAP listener (auth.front.imap.backend). */
  lpsImap: number;
  /** Dovecot's LMTP, where Postfix delivers the operator's domains. */
  lmtp: number;
  /**
   * A plain smtpd without the milter, for tests and the self-check to hand Postfix outgoing
   * mail without logging in, so that what the outbound gate checks by itself can be seen. No
   * such door exists in production (postfix-apply.sh warns about an smtpd without the milter;
   * `sendmail` goes through the milter, main.cf.d/30-local-submission.cf).
   */
  inject?: number;
}

export interface OperatorMtaOptions {
  /** Holds postfix/ and dovecot/; traversable by the users postfix, dovecot and mail. */
  dir: string;
  myhostname: string;
  domains: readonly string[];
  ports: OperatorMtaPorts;
  /** The outbound gate's LMTP socket (gates.out.listen.path), Postfix's default_transport next hop. */
  gateOutSocket: string;
  /** The sidecar's checker endpoint (auth.checker.listen) for the Lua passdb. */
  checkerUrl: string;
  /** RSA certificate and key of the LPS entry points (PEM files). */
  tls: { certFile: string; keyFile: string };
  /** Tests: no 2 s delay after each refused login (Dovecot's auth_failure_delay). */
  fastFailures?: boolean;
  /** Extra main.cf parameters (benchmarks). */
  postfixMain?: Record<string, string>;
  /** Further Dovecot configuration (e.g. an !include of dovecot/conf.d/91-mss-mail-log.conf). */
  dovecotExtraConfig?: string;
  /**
   * Dovecot as Debian installs it, with the install steps of docs/install.md (PAM, the
   * public listeners of the packages, a site passdb): the bypass suite. Default: a minimal
   * Dovecot with the shipped pieces only.
   */
  debianDovecot?: Pick<DebianDovecotOptions, 'sitePasswords' | 'passdbOrder'>;
  /**
   * Postfix configured by scripts/postfix-apply.sh itself (docs/install.md step 7), then its
   * site-specific values replaced: the bypass suite. Default: the pieces read and written
   * into the instance's main.cf/master.cf directly (the same settings, faster).
   */
  postfixApply?: boolean;
}

export interface OperatorMtas {
  postfix: PostfixInstance;
  dovecot: DovecotInstance;
  stop(): Promise<void>;
}

/** What this machine lacks to run an operator's real Postfix and Dovecot (empty: all there). */
export function operatorMtasMissing(): string[] {
  if (process.env.MSS_SANDBOX_MTA === 'none') return ['real mail servers (MSS_SANDBOX_MTA=none)'];
  const missing: string[] = [];
  if (!PostfixInstance.available()) missing.push('postfix');
  if (!DovecotInstance.available()) missing.push('dovecot (dovecot-core, dovecot-imapd, dovecot-lmtpd)');
  else if (!fs.existsSync('/usr/lib/dovecot/modules/auth/libauthdb_lua.so')) missing.push('dovecot-auth-lua');
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) missing.push('openssl');
  if (process.getuid?.() !== 0) missing.push('root (private Postfix and Dovecot instances need it)');
  return missing;
}

/** The socket of Postfix's mss-gate-in service (gates.in.postfix.path) for the instance under `dir`. */
export function gateInSocketPath(dir: string): string {
  return path.join(dir, 'postfix', 'queue', GATE_LISTENER_SOCKET);
}

export async function startOperatorMtas(o: OperatorMtaOptions): Promise<OperatorMtas> {
  fs.mkdirSync(o.dir, { recursive: true });
  fs.chmodSync(o.dir, 0o755);
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const dovecotDir = path.join(o.dir, 'dovecot');
    fs.mkdirSync(dovecotDir, { recursive: true });
    // Dovecot's auth process (user dovecot) reads the script: a copy next to the instance,
    // whose directory it can traverse (the checkout may not be readable by it).
    fs.copyFileSync(path.join(SHIPPED_ROOT, 'dovecot', DOVECOT_LUA_SCRIPT), path.join(dovecotDir, DOVECOT_LUA_SCRIPT));
    fs.chmodSync(path.join(dovecotDir, DOVECOT_LUA_SCRIPT), 0o644);
    // The site-specific DH group the piece asks for (ssl_dh), for the DHE suites.
    const dh = path.join(dovecotDir, 'dh.pem');
    execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', dh], { stdio: 'ignore' });
    fs.chmodSync(dh, 0o644);
    const postfixSocket = path.join(dovecotDir, 'auth-postfix');
    let dovecot: DovecotInstance;
    let lmtp = `inet:127.0.0.1:${o.ports.lmtp}`;
    if (o.debianDovecot) {
      const debian = writeDebianDovecot({
        dir: dovecotDir,
        scriptDir: dovecotDir,
        checkerUrl: o.checkerUrl,
        lpsImapPort: o.ports.lpsImap,
        postfixSocket,
        tls: { ...o.tls, dhFile: dh },
        ...o.debianDovecot,
        ...(o.fastFailures ? { fastFailures: true } : {}),
        ...(o.dovecotExtraConfig ? { extraConfig: o.dovecotExtraConfig } : {}),
      });
      dovecot = new DovecotInstance({ dir: dovecotDir, prepared: { configFile: debian.configFile, readySocket: postfixSocket } });
      lmtp = `unix:${debian.lmtpSocket}`;
    } else {
      const passdbConf = path.join(dovecotDir, DOVECOT_PASSDB_PIECE);
      fs.writeFileSync(passdbConf, dovecotPassdbConfig({ scriptDir: dovecotDir }));
      const lpsConf = path.join(dovecotDir, DOVECOT_LPS_PIECE);
      fs.writeFileSync(lpsConf, dovecotLpsConfig({ scriptDir: dovecotDir, checkerUrl: o.checkerUrl, lpsImapPort: o.ports.lpsImap, postfixSocket }));
      dovecot = new DovecotInstance({
        dir: dovecotDir,
        // IMAP only through the piece's LPS listener (the default one is off); LMTP for Postfix.
        imapPort: 0,
        lmtpPort: o.ports.lmtp,
        tlsCert: o.tls.certFile,
        tlsKey: o.tls.keyFile,
        // The passdb piece, first (the instance has no other passdb).
        authConfig: `!include ${passdbConf}`,
        extraConfig: [
          `!include ${lpsConf}`,
          `ssl_dh = <${dh}`,
          ...(o.fastFailures ? ['auth_failure_delay = 0'] : []),
          ...(o.dovecotExtraConfig ? [o.dovecotExtraConfig] : []),
        ].join('\n'),
      });
    }
    await dovecot.start();
    stoppers.push(() => dovecot.stop());

    const site = {
      gateOut: `unix:${o.gateOutSocket}`,
      submissionPort: o.ports.submission,
      milter: `inet:127.0.0.1:${o.ports.milter}`,
      tlsChainFiles: `${o.tls.keyFile} ${o.tls.certFile}`,
      saslPath: postfixSocket,
    };
    const shipped = shippedPostfix(site);
    const inject = o.ports.inject !== undefined ? [`127.0.0.1:${o.ports.inject} inet n - n - - smtpd`] : [];
    // The operator's domains are delivered here, to Dovecot (the site's own setting in
    // production); every address exists as far as Postfix knows: the gate and the milter
    // have checked recipients against the registry.
    const delivery = { virtual_mailbox_domains: o.domains.join(', '), virtual_mailbox_maps: 'static:mailbox', virtual_transport: `lmtp:${lmtp}` };
    const postfix = new PostfixInstance({
      dir: path.join(o.dir, 'postfix'),
      myhostname: o.myhostname,
      services: o.postfixApply ? inject : [...shipped.services, ...inject],
      main: { ...(o.postfixApply ? {} : shipped.main), ...delivery, ...o.postfixMain },
    });
    if (o.postfixApply) {
      postfix.writeConfig();
      runPostfixApply(postfix.configDir, { MSS_SIDECAR: 'true' });
      localisePieces(postfix.configDir, site);
    }
    await postfix.start(10_000, { keepConfig: o.postfixApply === true });
    stoppers.push(() => postfix.stop());
    return { postfix, dovecot, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
