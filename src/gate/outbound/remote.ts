// §6.7.2.1 steps 2–6 for one recipient domain: an SMTP session with one of the domain's MX
// hosts, STARTTLS mandatory (no plaintext fallback, EX_3.2_5020), the operator's client
// certificate, then the receiving connector's certificate judged before anything of the
// message is sent: chain against the local store and revocation (step 4, EX_OPE_5040,
// EX_OPE_5050), DN in the liste blanche (step 5) and listed for the recipient domain
// (step 6, EX_3.2_5050). A host that fails any step is left for the next MX; the domain
// is deferred (4xx) when none passes, so Postfix retries and finally bounces with the reason.
import { asMssError } from '../../errors.js';
import { mssTlsOptions } from '../../pki/tls-profile.js';
import type { GateDeps } from '../deps.js';
import { checkPeer, peerLeaf, tlsInfoOf, type PeerIdentity } from '../peer.js';
import { formatReply, refusal, type Refusal } from '../reply.js';
import { SmtpClient } from '../smtp-client.js';
import type { MxTarget } from './mx.js';

export interface RemoteSession {
  client: SmtpClient;
  target: MxTarget;
  peer: PeerIdentity;
  /** Domain the peer's DN was checked against. */
  domain: string;
  /** Messages sent on this session. */
  uses: number;
  /** The liste blanche and CRL generation the peer was judged under. */
  judgedWith: { index: unknown; crl: number };
}

export type OpenResult = { ok: true; session: RemoteSession } | { ok: false; refusal: Refusal; tried: string[] };

function describe(t: MxTarget, port: number): string {
  return `${t.host}[${t.address}]:${port}`;
}

/** Re-judge a cached session's peer when the liste blanche or the CRLs changed since. */
export function stillValid(s: RemoteSession, deps: GateDeps): boolean {
  const index = deps.whitelist.index;
  if (s.judgedWith.index === index && s.judgedWith.crl === deps.revocation.generation) return true;
  const check = checkPeer(s.peer.cert.der, s.peer, { trust: deps.trust, revocation: deps.revocation, index, log: deps.log }, 'receiving');
  if (!check.ok || !index?.allows(s.peer.cert.subject, s.domain)) return false;
  s.judgedWith = { index, crl: deps.revocation.generation };
  return true;
}

export async function openRemote(domain: string, targets: readonly MxTarget[], deps: GateDeps, deadline: number): Promise<OpenResult> {
  const cfg = deps.config.gates.out;
  const port = cfg.remotePort;
  const helo = cfg.heloName ?? deps.operator.fqdn;
  const tried: string[] = [];
  // The most telling failure wins: a certificate problem over a refused connection.
  let worst: Refusal | undefined;
  const rank = (r: Refusal): number =>
    r.reason.startsWith('GATE_PEER') || r.reason === 'GATE_OUT_DN_NOT_FOR_DOMAIN' ? 2 : r.reason === 'GATE_OUT_NO_STARTTLS' ? 1 : 0;
  const note = (t: MxTarget, r: Refusal): void => {
    tried.push(`${describe(t, port)}: ${formatReply(r)}`);
    if (!worst || rank(r) >= rank(worst)) worst = r;
    deps.log.info({ domain, mx: describe(t, port), reason: r.reason }, `gate-out: ${describe(t, port)} not used for ${domain}: ${formatReply(r)}`);
  };
  for (const target of targets) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let client: SmtpClient | undefined;
    try {
      client = await SmtpClient.connect({
        host: target.address,
        port,
        connectTimeoutMs: Math.min(cfg.timeouts.connectMs, left),
        commandTimeoutMs: Math.min(cfg.timeouts.commandMs, left),
      });
      if (client.greeting.code !== 220)
        throw refusal('GATE_OUT_GREETING', 451, '4.4.0', `${describe(target, port)} greeted with ${formatReply(client.greeting)}`);
      const ehlo = await client.ehlo(helo);
      if (ehlo.code !== 250) throw refusal('GATE_OUT_EHLO', 451, '4.4.0', `${describe(target, port)} refused EHLO: ${formatReply(ehlo)}`);
      // Step 3: STARTTLS or nothing (EX_3.2_5020).
      if (client.feature('STARTTLS') === undefined)
        throw refusal(
          'GATE_OUT_NO_STARTTLS',
          451,
          '4.7.4',
          `${describe(target, port)} does not offer STARTTLS: MSSanté mail is never sent in clear (EX_3.2_5020)`,
        );
      const tls = await client.startTls({
        // EX_OPE_5010: the six TLS 1.2 suites or TLS 1.3; our own certificate for mutual TLS.
        ...mssTlsOptions(),
        cert: deps.operator.certPem,
        key: deps.operator.keyPem,
        servername: target.host,
        // The server's chain is judged by checkPeer() against the local store, not by OpenSSL.
        rejectUnauthorized: false,
      });
      if (!tls.socket)
        throw refusal('GATE_OUT_NO_STARTTLS', 451, '4.7.4', `${describe(target, port)} refused STARTTLS: ${formatReply(tls.reply)} (EX_3.2_5020)`);
      // Steps 4–5 (EX_3.2_5050).
      const index = deps.whitelist.index;
      const check = checkPeer(
        peerLeaf(tls.socket),
        tlsInfoOf(tls.socket),
        { trust: deps.trust, revocation: deps.revocation, index, log: deps.log },
        'receiving',
      );
      if (!check.ok) throw { ...check.refusal, code: 451, enhanced: check.refusal.enhanced.replace(/^5/, '4') } as Refusal;
      // Step 6 (EX_3.2_5050): the DN is one the list gives for the recipient domain, so
      // mail never goes through another operator's server (EX_3.2_5040).
      if (!index?.allows(check.peer.cert.subject, domain)) {
        throw refusal(
          'GATE_OUT_DN_NOT_FOR_DOMAIN',
          451,
          '4.7.1',
          `${describe(target, port)} presented ${check.peer.dn}, which the liste blanche MSSanté does not list for ${domain} (EX_3.2_5050)`,
        );
      }
      const again = await client.ehlo(helo);
      if (again.code !== 250) throw refusal('GATE_OUT_EHLO', 451, '4.4.0', `${describe(target, port)} refused EHLO after STARTTLS: ${formatReply(again)}`);
      return { ok: true, session: { client, target, peer: check.peer, domain, uses: 0, judgedWith: { index, crl: deps.revocation.generation } } };
    } catch (thrown) {
      client?.destroy();
      if (thrown && typeof thrown === 'object' && 'reason' in thrown) note(target, thrown as Refusal);
      else {
        const err = asMssError(thrown);
        note(target, refusal('GATE_OUT_UNREACHABLE', 451, '4.4.1', `${describe(target, port)}: ${err.message}`));
      }
    }
  }
  const last = worst ?? refusal('GATE_OUT_TIMEOUT', 451, '4.4.7', `no mail server of ${domain} could be used within ${cfg.timeouts.setupMs} ms`);
  return { ok: false, refusal: tried.length > 1 ? { ...last, text: `${last.text} (${tried.length} servers tried)` } : last, tried };
}
