// EX_LPS_0900 step 7: the IdNat comes only from PSC's UserInfo `SubjectNameID`, asked with
// the access token itself. The answer is cached by token hash until the token expires
// (in this process, and in the shared cache when there is one, so that IMAP and SMTP
// logins on several nodes cost one UserInfo call per token), and concurrent logins with
// the same token share one call.
import type { Logger } from '../../log.js';
import type { LocalTtlCache } from '../local-ttl-cache.js';
import type { TtlCache } from '../ports.js';
import type { PscDiscovery } from './discovery.js';
import { jsonObject, pscGet, type PscHttpOptions } from './http.js';

export type IdNatLookup =
  | { ok: true; idNat: string; cached: boolean }
  | { ok: false; temporary: false; reason: 'userinfo-refused' | 'userinfo-no-idnat'; detail: string }
  | { ok: false; temporary: true; reason: 'userinfo-unavailable' | 'psc-discovery-unavailable'; detail: string };

const ID_NAT = /^[0-9A-Za-z]{1,64}$/;

/**
 * EX_LPS_0900 step 7: a person's IdNat is UserInfo's `SubjectNameID` and nothing else (not
 * `sub`, not `preferred_username`), letters and digits only. The portal's sign-in uses the
 * same rule (docs/portal.md).
 */
export function subjectNameIdOf(userInfo: Record<string, unknown>): string | undefined {
  const idNat = userInfo.SubjectNameID;
  return typeof idNat === 'string' && ID_NAT.test(idNat) ? idNat : undefined;
}

export class PscUserInfo {
  private readonly inFlight = new Map<string, Promise<IdNatLookup>>();
  /** Number of UserInfo calls made, for the benchmark and tests. */
  calls = 0;

  constructor(
    private readonly discovery: PscDiscovery,
    private readonly http: PscHttpOptions,
    private readonly local: LocalTtlCache,
    private readonly shared: TtlCache | undefined,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** `tokenHash` identifies the token in caches and logs; `expiresAt` (seconds) bounds the cache entry. */
  async idNat(token: string, tokenHash: string, expiresAt: number): Promise<IdNatLookup> {
    const key = `psc:userinfo:${tokenHash}`;
    const local = this.local.getSync(key);
    if (local !== undefined) return { ok: true, idNat: local, cached: true };
    const running = this.inFlight.get(key);
    if (running) return running;
    const lookup = this.lookup(key, token, tokenHash, expiresAt).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, lookup);
    return lookup;
  }

  private async lookup(key: string, token: string, tokenHash: string, expiresAt: number): Promise<IdNatLookup> {
    if (this.shared) {
      try {
        const shared = await this.shared.get(key);
        if (shared !== undefined) {
          this.local.setSync(key, shared, this.ttl(expiresAt));
          return { ok: true, idNat: shared, cached: true };
        }
      } catch (err) {
        // The shared cache is an optimisation: without it, ask PSC.
        this.log.warn({ err, tokenHash }, 'shared UserInfo cache unavailable');
      }
    }
    const result = await this.ask(token);
    if (result.ok) {
      const ttl = this.ttl(expiresAt);
      this.local.setSync(key, result.idNat, ttl);
      if (this.shared)
        await this.shared.set(key, result.idNat, ttl).catch((err: unknown) => this.log.warn({ err, tokenHash }, 'could not write the shared UserInfo cache'));
    }
    return result;
  }

  private ttl(expiresAt: number): number {
    return Math.max(0, Math.floor(expiresAt - this.now() / 1000));
  }

  private async ask(token: string): Promise<IdNatLookup> {
    let url: string;
    try {
      url = (await this.discovery.endpoints()).userInfoEndpoint;
    } catch (err) {
      return { ok: false, temporary: true, reason: 'psc-discovery-unavailable', detail: (err as Error).message };
    }
    this.calls += 1;
    let body: Record<string, unknown>;
    try {
      const res = await pscGet(url, this.http, { authorization: `Bearer ${token}` });
      if (res.status === 401 || res.status === 403) return { ok: false, temporary: false, reason: 'userinfo-refused', detail: `${url} answered ${res.status}` };
      // Anything else than 200 (5xx, a misconfigured client...) is PSC's or our problem, not the user's.
      if (res.status !== 200) return { ok: false, temporary: true, reason: 'userinfo-unavailable', detail: `${url} answered ${res.status}` };
      body = jsonObject(res, url);
    } catch (err) {
      return { ok: false, temporary: true, reason: 'userinfo-unavailable', detail: (err as Error).message };
    }
    const idNat = subjectNameIdOf(body);
    if (idNat === undefined) return { ok: false, temporary: false, reason: 'userinfo-no-idnat', detail: `${url} gave no usable SubjectNameID` };
    return { ok: true, idNat, cached: false };
  }
}
