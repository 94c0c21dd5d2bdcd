// What the checker needs from the rest of mss-sidecar, as small interfaces: who may use
// which mailbox and the login record (the mailbox registry), and a shared cache with expiry
// (the state store). The checker is built and tested against these; `serve` wires them to
// the registry and the store.

/** How an identity is entitled to a mailbox (§5.1.1.2, §5.4.2; EX_GBM_5414 for delegates). */
export type Habilitation = 'holder' | 'responsible' | 'coholder' | 'delegate';

export type AccessRefusal =
  /** No such mailbox on this operator. */
  | 'unknown-mailbox'
  /** The mailbox exists, the identity holds no right on it. */
  | 'not-authorised'
  /** Suspended mailboxes accept no login (§5.5). */
  | 'suspended'
  /** APP mailboxes are reached with an AUTH-CLI certificate, never with a PSC token (§6.8.1). */
  | 'application-mailbox'
  /** Deleted mailboxes keep their traces, not their logins (§5.7). */
  | 'deleted';

export type AccessDecision =
  | { allowed: true; role: Habilitation; /** For a delegate: the holder or co-holder they act for (§5.4.2). */ delegateOf?: string }
  | { allowed: false; reason: AccessRefusal };

/** EX_LPS_1200 step 5: may the structure of a certificate (its IdNat) open this mailbox? */
export type ApplicationDecision =
  | { allowed: true }
  | {
      allowed: false;
      reason: 'unknown-mailbox' | 'suspended' | /** Only APP mailboxes take AUTH-CLI (§6.8.1). */ 'not-application-mailbox' | 'other-structure';
    };

export type AuthenticationType = 'PSC-XOAUTH2' | 'AUTH-CLI';
/** A password login (PLAIN, LOGIN, CRAM-MD5…) attempted on an MSSanté mailbox: always refused. */
export type RefusedAuthenticationType = AuthenticationType | 'PASSWORD';

/** One successful login, as the registry records it (last login, EX_GDT_5060 trace). */
export interface LoginRecord {
  mailbox: string;
  authType: AuthenticationType;
  /** IdNat of the person (PSC) or of the structure (AUTH-CLI). */
  author: string;
  role: Habilitation | 'structure';
  delegateOf?: string;
  /** AUTH-CLI: subject DN of the client certificate. */
  certificate?: string;
  /** `imap` or `smtp`, as Dovecot names the service. */
  service: string;
  /** What the client said about itself (IMAP ID before login), when it did. */
  client?: string;
  remoteIp: string;
  /** Dovecot's session ID, to join this record with Dovecot's and Postfix's logs. */
  session?: string;
  at: Date;
}

/** A refused or undecided login, for the functional traces (EX_GDT_5040: failures included). */
export interface FailedLogin {
  /** Unknown when the refusal came first (an AUTH-CLI certificate refused at STARTTLS). */
  mailbox?: string;
  authType: RefusedAuthenticationType;
  /** The IdNat or structure when it was established before the refusal. */
  author?: string;
  /** The refusal's reason code (token-expired, not-authorised, other-structure…). */
  reason: string;
  temporary: boolean;
  service: string;
  remoteIp: string;
  session?: string;
  at: Date;
  /** This refusal was repeated `count` more times since `since`, identically (one record for all: src/auth/failure-traces.ts). */
  repeated?: { count: number; since: Date };
}

export interface MailboxAccess {
  /** EX_LPS_0900 step 8: may this IdNat open this mailbox, and in which role? */
  decide(idNat: string, mailbox: string): Promise<AccessDecision>;
  /** EX_LPS_1200 step 5: is this APP mailbox attached to this structure IdNat? */
  decideApplication(structureId: string, mailbox: string): Promise<ApplicationDecision>;
  /**
   * EX_LPS_0600, EX_LPS_1200: is this address one of this operator's MSSanté mailboxes (in
   * the registry, or in one of its domains)? Such a mailbox is never opened with a password.
   */
  isOperatorAddress(address: string): Promise<boolean>;
  recordLogin(login: LoginRecord): Promise<void>;
  recordFailedLogin(failure: FailedLogin): Promise<void>;
}

/** A string cache with per-entry expiry, shared between nodes when backed by Redis. */
export interface TtlCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}
