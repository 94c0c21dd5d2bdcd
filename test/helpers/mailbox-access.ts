// An in-memory stand-in for the mailbox registry, for tests of the login checks: who holds,
// co-holds, is responsible for or is a delegate on which mailbox, and the logins recorded.
import type { AccessDecision, ApplicationDecision, FailedLogin, LoginRecord, MailboxAccess } from '../../src/auth/ports.js';

export interface TestMailbox {
  type: 'PER' | 'ORG' | 'APP';
  status?: 'active' | 'suspended';
  holder?: string;
  responsible?: string;
  coholders?: string[];
  delegates?: Array<{ idNat: string; of: string }>;
  /** APP mailboxes: the structure IdNat they belong to. */
  structureId?: string;
}

export class MemoryMailboxAccess implements MailboxAccess {
  readonly mailboxes = new Map<string, TestMailbox>();
  readonly logins: LoginRecord[] = [];
  readonly failures: FailedLogin[] = [];
  /** Simulate a registry that cannot answer. */
  unavailable = false;
  /** The operator's domains: every address in them is an MSSanté mailbox of ours. */
  readonly domains = new Set(['ch-exemple.mssante.fr']);

  add(address: string, mailbox: TestMailbox): this {
    this.mailboxes.set(address.toLowerCase(), mailbox);
    return this;
  }

  async decide(idNat: string, address: string): Promise<AccessDecision> {
    if (this.unavailable) throw new Error('registry unavailable');
    const m = this.mailboxes.get(address);
    if (!m) return { allowed: false, reason: 'unknown-mailbox' };
    if (m.type === 'APP') return { allowed: false, reason: 'application-mailbox' };
    if (m.status === 'suspended') return { allowed: false, reason: 'suspended' };
    if (m.holder === idNat) return { allowed: true, role: 'holder' };
    if (m.responsible === idNat) return { allowed: true, role: 'responsible' };
    if (m.coholders?.includes(idNat)) return { allowed: true, role: 'coholder' };
    const delegation = m.delegates?.find((d) => d.idNat === idNat);
    if (delegation) return { allowed: true, role: 'delegate', delegateOf: delegation.of };
    return { allowed: false, reason: 'not-authorised' };
  }

  async decideApplication(structureId: string, address: string): Promise<ApplicationDecision> {
    if (this.unavailable) throw new Error('registry unavailable');
    const m = this.mailboxes.get(address);
    if (!m) return { allowed: false, reason: 'unknown-mailbox' };
    if (m.type !== 'APP') return { allowed: false, reason: 'not-application-mailbox' };
    if (m.status === 'suspended') return { allowed: false, reason: 'suspended' };
    return m.structureId === structureId ? { allowed: true } : { allowed: false, reason: 'other-structure' };
  }

  async isOperatorAddress(address: string): Promise<boolean> {
    if (this.unavailable) throw new Error('registry unavailable');
    const a = address.toLowerCase();
    return this.mailboxes.has(a) || this.domains.has(a.slice(a.lastIndexOf('@') + 1));
  }

  async recordLogin(login: LoginRecord): Promise<void> {
    this.logins.push(login);
  }

  async recordFailedLogin(failure: FailedLogin): Promise<void> {
    this.failures.push(failure);
  }
}
