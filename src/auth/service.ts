// The API LPS in `mss-sidecar serve` (when the configuration has an `auth` section): the
// checker endpoint the Dovecot Lua passdb calls, wired to the mailbox registry, the state
// store (shared UserInfo cache, last logins) and the functional traces; the PSC fronts of
// 143/587 (EX_LPS_1000, and EX_LPS_0710 on 587); the AUTH-CLI fronts when
// `auth.authCli.enabled` (EX_LPS_1200). The fronts that decide logins themselves share one
// ticket book with the checker.
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { Logger } from '../log.js';
import type { SharedResources } from '../daemon/shared.js';
import { buildAuthCliFronts } from './authcli/build.js';
import { buildChecker } from './build-checker.js';
import type { AuthConfig } from './config.js';
import { CheckerEndpoint } from './endpoint.js';
import { FailedLoginTraces } from './failure-traces.js';
import { frontGuards, lpsFronts } from './front/service.js';
import { FrontOnlyChecker } from './front-only.js';
import { LoginRouter } from './login-router.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordLogins } from './password-login.js';
import type { MailboxAccess } from './ports.js';
import { RegistryMailboxAccess } from './registry-access.js';
import { StoreTtlCache } from './store-cache.js';
import { TicketChecker } from './ticket-checker.js';
import { TicketBook } from './tickets.js';

class ApiLpsService implements Service {
  readonly name = 'api-lps';
  private readonly stops: Array<() => Promise<void> | void> = [];

  constructor(
    private readonly config: Config,
    private readonly auth: AuthConfig,
    private readonly log: Logger,
    /** The daemon's resources (daemon/run.ts builds them once; the service never opens its own). */
    private readonly shared: SharedResources,
  ) {}

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async open(): Promise<void> {
    const resources = this.shared;
    const store = resources.store();
    const traces = resources.traces();
    const holder = await resources.registry();
    const activity = await resources.activity();
    const registryAccess = new RegistryMailboxAccess(() => holder.current(), activity, traces);
    // EX_GDT_5040 without letting a client decide how fast the traces grow: identical refusals fold into one record with a count.
    const failures = new FailedLoginTraces(registryAccess, this.auth.failedLogins.traceWindowSeconds, (err) =>
      this.log.error({ err }, 'could not trace the refused login'),
    );
    this.stops.push(() => failures.flush());
    const access: MailboxAccess = {
      decide: (idNat, mailbox) => registryAccess.decide(idNat, mailbox),
      decideApplication: (structureId, mailbox) => registryAccess.decideApplication(structureId, mailbox),
      recordLogin: (login) => registryAccess.recordLogin(login),
      recordFailedLogin: (failure) => failures.recordFailedLogin(failure),
      isOperatorAddress: (address) => registryAccess.isOperatorAddress(address),
    };
    // One admission and one failed-login policy for every front of this process (auth.connections, auth.failedLogins).
    const guards = frontGuards(this.auth.connections);
    const throttle = new LoginThrottle(this.auth.failedLogins);

    const tickets = new TicketBook();
    const { checker } = buildChecker(this.auth.psc, { access, sharedCache: new StoreTtlCache(store), throttle, log: this.log.child({ part: 'checker' }) });
    // With the fronts on, they decide PSC logins: Dovecot and Postfix accept their tickets only.
    const psc = this.auth.front.enabled ? new FrontOnlyChecker(access, this.log.child({ part: 'checker' })) : checker;
    const router = new LoginRouter(psc, new TicketChecker(tickets, access, this.log.child({ part: 'tickets' })));
    const endpoint = new CheckerEndpoint(
      router,
      this.auth.checker.listen,
      this.log.child({ part: 'endpoint' }),
      new PasswordLogins(access, this.log.child({ part: 'passwords' })),
    );
    await endpoint.start();
    this.stops.push(() => endpoint.stop());

    for (const front of lpsFronts(this.config, { psc: checker, tickets, guards, throttle, log: this.log })) {
      await front.start();
      this.stops.push(() => front.stop());
    }
    if (this.auth.authCli?.enabled) {
      const trust = { dir: this.config.trust.dir, ...(this.config.trust.crlDir ? { crlDir: this.config.trust.crlDir } : {}) };
      const fronts = await buildAuthCliFronts(this.auth.authCli, trust, this.auth.sessions, { access, tickets, guards, throttle, log: this.log });
      await fronts.start();
      this.stops.push(() => fronts.stop());
    }
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        this.log.error({ err }, 'api-lps: a part did not stop cleanly');
      }
    }
  }
}

export const apiLpsService: ServiceFactory = {
  name: 'api-lps',
  create(config: Config, log: Logger, shared: SharedResources): Service | undefined {
    return config.auth ? new ApiLpsService(config, config.auth, log, shared) : undefined;
  },
};
