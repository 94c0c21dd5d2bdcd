// MailboxAccess on the mailbox registry (src/registry): who may open which mailbox
// (Registry.canUse, Registry.appStructure), the login record (Activity.recordLogin: last
// login, EX_GDT_5060 trace, republication after an inactivity depublication), and the
// traces of refused logins (EX_GDT_5040: the system's response, failures included).
import type { Activity } from '../registry/activity.js';
import type { Registry } from '../registry/registry.js';
import type { TraceLog } from '../traces/trace-log.js';
import { splitAddress } from '../submission/address.js';
import type { AccessDecision, AccessRefusal, ApplicationDecision, FailedLogin, Habilitation, LoginRecord, MailboxAccess } from './ports.js';

const ROLE: Record<string, Habilitation> = { holder: 'holder', responsible: 'responsible', 'co-holder': 'coholder', delegate: 'delegate' };

const REFUSAL: Record<string, AccessRefusal> = {
  'unknown-bal': 'unknown-mailbox',
  'not-authorized': 'not-authorised',
  suspended: 'suspended',
  deleted: 'deleted',
  'application-mailbox': 'application-mailbox',
};

/** EX_GDT_5060: the authentication type as the traces name it. */
const AUTH_TYPE_LABEL = { 'PSC-XOAUTH2': 'PSC/XOAUTH2', 'AUTH-CLI': 'AUTH-CLI certificate', PASSWORD: 'password' } as const;

export class RegistryMailboxAccess implements MailboxAccess {
  constructor(
    private readonly registry: () => Registry,
    private readonly activity: Activity,
    private readonly traces: TraceLog,
  ) {}

  async decide(idNat: string, mailbox: string): Promise<AccessDecision> {
    const d = this.registry().canUse(idNat, mailbox);
    if (d.allowed && d.role) {
      const role = ROLE[d.role];
      if (role) return d.delegateOf ? { allowed: true, role, delegateOf: d.delegateOf } : { allowed: true, role };
    }
    return { allowed: false, reason: REFUSAL[d.reason ?? ''] ?? 'not-authorised' };
  }

  async decideApplication(structureId: string, mailbox: string): Promise<ApplicationDecision> {
    const registry = this.registry();
    const bal = registry.get(mailbox);
    if (!bal || bal.status === 'deleted') return { allowed: false, reason: 'unknown-mailbox' };
    if (bal.type !== 'APP') return { allowed: false, reason: 'not-application-mailbox' };
    if (bal.status !== 'active') return { allowed: false, reason: 'suspended' };
    // EX_LPS_1200 step 5: the certificate's OU is the IdNat of the structure the APP BAL belongs to.
    return registry.appStructure(mailbox)?.idNat === structureId ? { allowed: true } : { allowed: false, reason: 'other-structure' };
  }

  async isOperatorAddress(address: string): Promise<boolean> {
    const registry = this.registry();
    const { domain } = splitAddress(address.trim().toLowerCase());
    return registry.get(address) !== undefined || (domain !== '' && registry.isOurDomain(domain));
  }

  async recordLogin(login: LoginRecord): Promise<void> {
    await this.activity.recordLogin(login.mailbox, login.at, {
      authType: AUTH_TYPE_LABEL[login.authType],
      identity: login.author,
      ...(login.delegateOf ? { delegateOf: login.delegateOf } : {}),
      service: login.service,
      ...(login.client ? { client: login.client } : login.certificate ? { client: `certificate ${login.certificate}` } : {}),
      address: login.remoteIp,
      ...(login.session ? { session: login.session } : {}),
    });
  }

  async recordFailedLogin(f: FailedLogin): Promise<void> {
    this.traces.write({
      action: 'login',
      actor: {
        id: f.author ?? 'unknown',
        kind: f.authType === 'AUTH-CLI' ? 'application' : 'user',
        source: f.authType === 'AUTH-CLI' ? 'certificate' : f.authType === 'PASSWORD' ? 'password' : 'psc',
      },
      ...(f.mailbox ? { bal: f.mailbox } : {}),
      means: { service: f.service, authType: AUTH_TYPE_LABEL[f.authType] },
      address: f.remoteIp,
      request: { at: f.at.toISOString(), ...(f.session ? { session: f.session } : {}), ...(f.repeated ? { firstAt: f.repeated.since.toISOString() } : {}) },
      response: { ok: false, code: f.reason, ...(f.temporary ? { temporary: true } : {}), ...(f.repeated ? { repeated: f.repeated.count } : {}) },
    });
  }
}
