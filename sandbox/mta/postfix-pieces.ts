// The shipped Postfix pieces (read by shipped-config.ts) turned into what the sandbox, a test
// or the benchmark needs to run Postfix with them on its own ports: every main.cf parameter
// and every master.cf service of postfix/, with only the site-specific values replaced — the
// loopback ports, the milter endpoint, the certificate and Dovecot's SASL socket. Nothing
// else is rewritten, so what runs is what `scripts/postfix-apply.sh` installs.
import { postfixMainPieces, postfixServiceEntry, postfixServiceOptions } from './shipped-config.js';

/** The LPS submission service behind the front (postfix/master.cf.d/20-submission.cf). */
export const SUBMISSION_SERVICE = '127.0.0.1:687/inet';
/** The smtpd the inbound gate relays to, on a unix socket (postfix/master.cf.d/10-gates.cf). */
export const GATE_LISTENER_SERVICE = 'mss-gate-in/unix';
/** Where Postfix puts that socket, under its queue directory (a unix service with private = n). */
export const GATE_LISTENER_SOCKET = 'public/mss-gate-in';
/** The LMTP transport to the outbound gate (postfix/master.cf.d/10-gates.cf). */
export const GATE_OUT_TRANSPORT = 'mss-gate-out/unix';

/** Every `name = value` of postfix/main.cf.d/*.cf. */
export function mainPieces(): Record<string, string> {
  return postfixMainPieces();
}

/** The `-o name=value` options postfix/master.cf.d/*.cf sets on a service (default: the submission service). */
export function serviceOptions(service = SUBMISSION_SERVICE): string[] {
  return postfixServiceOptions(service);
}

/** The shipped endpoint (unix:mss-sidecar/milter.sock, relative to queue_directory) or a loopback port. */
const MILTER_ENDPOINT = /unix:\S+?(?=,)|inet:127\.0\.0\.1:\d+/;

/** main.cf pieces with the milter endpoint moved to `milter` (`inet:127.0.0.1:PORT`, `unix:PATH`). */
export function mainPiecesForMilter(milter: string): Record<string, string> {
  const main = mainPieces();
  const endpoint = main.mss_submission_milter;
  if (!endpoint || !MILTER_ENDPOINT.test(endpoint)) throw new Error('postfix/main.cf.d: mss_submission_milter not found');
  return { ...main, mss_submission_milter: endpoint.replace(MILTER_ENDPOINT, milter) };
}

/**
 * The shipped submission service on loopback port `port`, plus `extra` options. `only` keeps
 * the shipped options whose name matches (the benchmark and the milter tests keep the
 * milter's and TLS, without SASL and the PROXY header of the front).
 */
export function submissionListener(port: number, extra: readonly string[] = [], only?: RegExp): string {
  const shipped = serviceOptions().filter((o) => !only || only.test(o.slice(3, o.indexOf('='))));
  return [`127.0.0.1:${port} inet n - n - - smtpd`, ...shipped, ...extra].join('\n  ');
}

/** A shipped master.cf service with its options, its name replaced by `rename` (a listener moved to another port). */
function serviceLines(key: string, rename?: string): string {
  const entry = postfixServiceEntry(key);
  if (!entry) throw new Error(`postfix/master.cf.d has no ${key} service`);
  return [rename ? entry.replace(/^\S+/, rename) : entry, ...serviceOptions(key)].join('\n  ');
}

/** Where one operator's Postfix meets the rest, in place of the shipped defaults. */
export interface PostfixSite {
  /** The outbound gate's LMTP, Postfix notation (shipped unix:/run/mss-sidecar/gate-out.sock; gates.out.listen). */
  gateOut: string;
  /** Port of the submission service behind the front (shipped 687; auth.front.submission.backend). */
  submissionPort: number;
  /** The milter (`inet:127.0.0.1:PORT` or `unix:PATH`; shipped unix:mss-sidecar/milter.sock; milter.listen). */
  milter: string;
  /** Key and certificate of the submission service, key first (mss_submission_tls_chain_files). */
  tlsChainFiles: string;
  /** Dovecot's SASL socket for Postfix (mss_submission_sasl_path). */
  saslPath: string;
}

/** Every shipped piece, main.cf and master.cf, for one operator's Postfix on its own ports. */
export function shippedPostfix(site: PostfixSite): { main: Record<string, string>; services: string[] } {
  const main = mainPiecesForMilter(site.milter);
  const transport = main.default_transport ?? '';
  if (!/^mss-gate-out:unix:\/\S+$/.test(transport)) throw new Error(`postfix/main.cf.d: default_transport is "${transport}", not the outbound gate's socket`);
  return {
    main: {
      ...main,
      default_transport: `mss-gate-out:${site.gateOut}`,
      mss_submission_tls_chain_files: site.tlsChainFiles,
      mss_submission_sasl_path: site.saslPath,
    },
    services: [serviceLines(GATE_LISTENER_SERVICE), serviceLines(GATE_OUT_TRANSPORT), serviceLines(SUBMISSION_SERVICE, `127.0.0.1:${site.submissionPort}`)],
  };
}
