// Who sent, as far as the milter can know. Postfix shows it the SASL username — the mailbox
// (XOAUTH2 `user=`, or the AUTH-CLI entry point's PLAIN login) — and the mechanism
// ({auth_type}); the person's IdNat and the holder a delegate acted for are known only to
// the authentication part, which traces each login (`login`, EX_GDT_5060) with the IdNat,
// the delegate-of, the client address and the time. Nothing links an SMTP session to that
// login record, so the milter does not guess (the BAL's last login may be another person's):
// it records the IdNat only when the registry leaves no doubt — the one person who may use
// the mailbox, or for an APP mailbox the structure whose certificates open it (EX_LPS_1200).
// Otherwise the trace's mailbox, address and time are the "données permettant de déduire"
// the author (EX_GDT_5040), by joining the login trace.
import type { Bal, Registry } from '../registry/registry.js';

export interface SenderIdentity {
  /** The SASL username: the mailbox logged into. */
  login: string;
  /** SASL mechanism (XOAUTH2; PLAIN on the AUTH-CLI entry point). */
  authType?: string;
  /** IdNat of the person, or the structure's IdNat for an APP mailbox, when unambiguous. */
  identity?: string;
  kind: 'user' | 'application';
  /** Where `identity` comes from. */
  source: 'registry:sole-user' | 'registry:app-structure' | 'sasl-login';
}

export function senderIdentity(registry: Registry, bal: Bal, login: string, authType: string | undefined): SenderIdentity {
  // Built field by field, in the order the traces show them (no object spreads: issue 20,
  // once per message in the milter).
  const id = { login } as SenderIdentity;
  if (authType) id.authType = authType;
  if (bal.type === 'APP') {
    if (bal.structureIdNat) {
      id.identity = bal.structureIdNat;
      id.kind = 'application';
      id.source = 'registry:app-structure';
    } else {
      id.kind = 'application';
      id.source = 'sasl-login';
    }
    return id;
  }
  const users = registry.usersOf(bal.address);
  if (users.length === 1) id.identity = users[0] as string;
  id.kind = 'user';
  id.source = users.length === 1 ? 'registry:sole-user' : 'sasl-login';
  return id;
}
