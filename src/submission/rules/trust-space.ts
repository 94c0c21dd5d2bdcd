// EX_3.2_5060: before a message leaves, the sender's and every recipient's domain must be in
// the liste blanche — or be one of this operator's own domains, delivered here — and a
// refused sender is told which address and why. interop-mssante.apicrypt.org is an MSSanté
// domain like the others (EX_3.1_5010) because the published list names it; no suffix is
// trusted on its own. Without a verified list (never synchronised), a domain that is not
// ours cannot be checked: a temporary failure, so nothing leaves unchecked and the LPS
// retries once `whitelist sync` has run.
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';
import { refusal, shown, type Refusal } from '../refusal.js';

export interface TrustSpace {
  isOurDomain(domain: string): boolean;
  /** The liste blanche in use, or undefined when no verified copy is available. */
  list(): WhitelistIndex | undefined;
}

const UNAVAILABLE = refusal('rules-unavailable', 451, '4.7.1', 'The MSSante liste blanche is not available on this server: try again later', 'EX_3.2_5060');

function check(space: TrustSpace, domain: string): 'ok' | 'unlisted' | 'unavailable' {
  if (domain !== '' && space.isOurDomain(domain)) return 'ok';
  const list = space.list();
  if (!list) return 'unavailable';
  return domain !== '' && list.hasDomain(domain) ? 'ok' : 'unlisted';
}

export function recipientDomain(space: TrustSpace, address: string, domain: string): Refusal | undefined {
  const r = check(space, domain);
  if (r === 'ok') return undefined;
  if (r === 'unavailable') return UNAVAILABLE;
  return refusal(
    'trust-space',
    550,
    '5.7.1',
    `Not sent to ${shown(address)}: domain ${shown(domain || '(none)')} is not in the MSSante trust space (liste blanche)`,
    'EX_3.2_5060',
  );
}

export function senderDomain(space: TrustSpace, address: string, domain: string): Refusal | undefined {
  if (address === '') return undefined;
  const r = check(space, domain);
  if (r === 'ok') return undefined;
  if (r === 'unavailable') return UNAVAILABLE;
  return refusal(
    'trust-space',
    553,
    '5.7.1',
    `Sender domain ${shown(domain || '(none)')} is not in the MSSante trust space (liste blanche): the message cannot be sent`,
    'EX_3.2_5060',
  );
}
