// Assemble the XOAUTH2 checker from the `auth.psc` configuration and the two things it is
// given: the mailbox registry (who may open what) and, optionally, the shared cache.
import fs from 'node:fs';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import { XOAuth2Checker } from './checker.js';
import type { PscConfig } from './config.js';
import { LocalTtlCache } from './local-ttl-cache.js';
import type { LoginThrottle } from './login-throttle.js';
import type { MailboxAccess, TtlCache } from './ports.js';
import { PscDiscovery } from './psc/discovery.js';
import type { PscHttpOptions } from './psc/http.js';
import { PscTokenVerifier } from './psc/token-verifier.js';
import { PscUserInfo } from './psc/userinfo.js';

export interface CheckerDeps {
  access: Pick<MailboxAccess, 'decide' | 'recordLogin' | 'recordFailedLogin'>;
  sharedCache?: TtlCache;
  log: Logger;
  /** PEM CAs for PSC; read from `psc.caFile` when not given. */
  ca?: string;
  /** The per-address failed-login limit (auth.failedLogins). */
  throttle?: LoginThrottle;
}

export interface BuiltChecker {
  checker: XOAuth2Checker;
  verifier: PscTokenVerifier;
  userInfo: PscUserInfo;
}

export function buildChecker(psc: PscConfig, deps: CheckerDeps): BuiltChecker {
  const http: PscHttpOptions = { ca: deps.ca ?? readCa(psc.caFile), timeoutMs: psc.timeoutMs };
  const discovery = new PscDiscovery(psc.issuer, http, psc.jwksMaxAgeSeconds * 1000);
  const verifier = new PscTokenVerifier(psc, discovery, http);
  const userInfo = new PscUserInfo(discovery, http, new LocalTtlCache(psc.userInfoCacheEntries), deps.sharedCache, deps.log);
  return { checker: new XOAuth2Checker(verifier, userInfo, deps.access, deps.log, deps.throttle), verifier, userInfo };
}

function readCa(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MssError('CONFIG_PSC_CA', `cannot read the CA file for Pro Santé Connect ${file} (auth.psc.caFile): ${(err as Error).message}`, { file });
  }
}
