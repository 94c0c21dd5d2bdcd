// The decisions of the inbound gate (TM3.1P, §6.7.1.1) once the peer's certificate passed
// steps 3–4 (peer.ts): the sender (steps 5–6) and each recipient. Pure functions of the
// liste blanche and the registry, so each rule is tested alone.
import { localPartSaysTest } from '../../registry/names.js';
import type { Registry } from '../../registry/registry.js';
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';
import { splitAddress } from '../address.js';
import type { PeerIdentity } from '../peer.js';
import { refusal, type Refusal } from '../reply.js';

/**
 * §6.7.1.1 steps 5–6 (EX_3.1_5030). The only filter on senders is the liste blanche: no
 * suffix rule, so interop-mssante.apicrypt.org is an MSSanté domain like any listed one
 * (EX_3.1_5010), and no rate limit on any sender, dgs.mssante.fr's bulk mailings included
 * (EX_3.1_5015).
 */
export function checkSender(mailFrom: string, peer: PeerIdentity, index: WhitelistIndex): Refusal | undefined {
  // Null sender (DSN, auto-reply, virus notice): only the DN must be listed, which step 4
  // already checked; no MAIL FROM ↔ DN consistency check (§6.7.1.1, remark after step 6).
  if (mailFrom === '') return undefined;
  const { domain } = splitAddress(mailFrom);
  // Step 6: the sender domain is present in the envelope.
  if (!domain)
    return refusal('GATE_SENDER_NO_DOMAIN', 553, '5.1.7', `Sender address <${mailFrom}> has no domain: the MAIL FROM domain must be present (EX_3.1_5030)`);
  // Step 6: the domain is in the liste blanche.
  if (!index.hasDomain(domain)) {
    return refusal(
      'GATE_SENDER_DOMAIN_NOT_LISTED',
      550,
      '5.7.1',
      `Sender domain ${domain} is not in the liste blanche MSSanté (generated ${index.generated}) (EX_3.1_5030)`,
    );
  }
  // Steps 5–6: the certificate DN is one the list gives for that domain (EX_LBL_5010: a
  // domain may have several DNs).
  if (!index.allows(peer.cert.subject, domain)) {
    const listed = index.dnsOf(domain);
    const shown = listed.slice(0, 2).join(' ; ') + (listed.length > 2 ? ` ; … (${listed.length} DNs)` : '');
    return refusal(
      'GATE_SENDER_DN_MISMATCH',
      550,
      '5.7.1',
      `Certificate DN ${peer.dn} is not listed for sender domain ${domain} in the liste blanche MSSanté (listed for ${domain}: ${shown}) (EX_3.1_5030)`,
    );
  }
  return undefined;
}

/** Does a remote address look like a test BAL? Only its name can say so (EX_GBM_4000). */
export function looksLikeTestMailbox(address: string): boolean {
  return localPartSaysTest(splitAddress(address).local);
}

/**
 * A recipient must be a mailbox of this operator: one of its domains (nothing is relayed),
 * present in the registry, active. A suspended BAL refuses mail with x.2.1 (§5.1.4,
 * RE_GBM_4420). A test BAL exchanges only with test BALs (EX_GBM_4010): it accepts a
 * sender whose local part says "test" (the only sign of a remote test BAL, EX_GBM_4000) or
 * the null sender (notifications about its own messages). The rule is one-way: a real
 * BAL accepts every listed sender (EX_3.1_5010), since "test" may be part of a real name.
 */
export function checkRecipient(rcpt: string, mailFrom: string, registry: Registry): Refusal | undefined {
  const { domain } = splitAddress(rcpt);
  if (!domain) return refusal('GATE_RCPT_SYNTAX', 553, '5.1.3', `Recipient address <${rcpt}> has no domain`);
  if (!registry.isOurDomain(domain)) {
    return refusal(
      'GATE_RCPT_NOT_OURS',
      550,
      '5.7.1',
      `Relay access denied: ${domain} is not a domain of this operator (mail for other domains is never relayed)`,
    );
  }
  const bal = registry.get(rcpt);
  if (!bal || bal.status === 'deleted') {
    return refusal('GATE_RCPT_UNKNOWN', 550, '5.1.1', `Mailbox <${rcpt}> does not exist on this operator`);
  }
  if (bal.status === 'suspended') {
    return refusal('GATE_RCPT_SUSPENDED', 550, '5.2.1', `Mailbox <${rcpt}> is suspended (disabled) and does not accept mail (RE_GBM_4420)`);
  }
  if (bal.test && mailFrom !== '' && !looksLikeTestMailbox(mailFrom)) {
    return refusal(
      'GATE_RCPT_TEST_ONLY',
      550,
      '5.7.1',
      `Mailbox <${rcpt}> is a test mailbox: it exchanges only with test mailboxes, and <${mailFrom}> is not one (its name does not contain "test") (EX_GBM_4010)`,
    );
  }
  return undefined;
}
