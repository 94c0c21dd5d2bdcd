// The inbound gate's duplicate window (RFC 1047), closed as far as SMTP allows. Postfix
// answers 250 to the gate before the gate answers 250 to the peer: a gate (or its whole
// node) killed in between leaves the message queued while the peer, which saw no 250,
// retries — on this node restarted or on the other MX — and would deliver it twice and
// journal it twice. So each message gets a digest (peer, envelope, content: computed while
// the content streams to Postfix) recorded in the shared store:
//
//   gate-in:<sha256>  {"state":"pending",…}    written before the final dot goes to Postfix
//                     {"state":"committed",…}  written once Postfix answered 250 (its queue id)
//
// A copy whose digest is committed is answered 250 without being handed to Postfix again;
// its `received` event is written again with the same event id and time (the store keeps
// it once). A copy whose digest is pending on a process that is gone (its node restarted
// since, its heartbeat expired, or its claim outlived the final dot's timeout) may or may
// not be in Postfix: it is delivered (mail is never lost) under the same event id and time,
// so the statistics count it once. A copy pending on a process still alive is waiting for
// Postfix: 451, the peer retries later. docs/gates.md ("Retries and duplicates") states the
// window that remains: from the final dot sent to Postfix to the commit (Postfix queues a
// message whose dot it read even if the gate died meanwhile).
//
// Where the records live: keys of the shared store with Redis (every node sees them), or,
// with the embedded store (one node), its digest log (digest-log.ts: one append per claim
// and per commit instead of a key file each, issue 20).
import { createHash, type Hash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { liveNode } from '../../cluster/members.js';
import type { StateStore } from '../../store/store.js';
import { pidAlive } from '../../util/file-lock.js';
import { DigestLog } from './digest-log.js';

/** Beyond the final dot's timeout, a claim is the holder's no more: it answered or died. */
const CLAIM_MARGIN_MS = 30_000;

/**
 * How long a claim waits for a store that fails before the copy goes through unchecked
 * (gates.in.duplicateCheckWaitMs). A Sentinel failover with down-after-milliseconds 1000
 * took 1.8–2.3 s to elect a new master here and the sidecar wrote again after 5.8 s at most
 * (docs/cluster.md); with the 5 s docs/install.md advises, ~10 s, and a failed election is
 * tried again only after twice the sentinels' failover-timeout. With the former 10 s, a
 * fresh-clone CI run under load (~9) let 447 copies through unchecked, one of them a retry
 * delivered twice. The peer waits 600 s for its final dot's answer, the held Postfix
 * session 300 s.
 */
export const DEFAULT_STORE_WAIT_MS = 30_000;
const STORE_RETRY_MS = 250;

interface Pending {
  state: 'pending';
  /** The event time of the message's `received` event, kept by every copy. */
  at: string;
  node: string;
  pid: number;
  /** When this holder claimed it (ms): a node restarted since has lost it. */
  claimedAt: number;
  /** The holder gives up on Postfix's answer by then (gates.in.postfix.dataDoneTimeoutMs). */
  until: number;
}

interface Committed {
  state: 'committed';
  at: string;
  /** Postfix's queue id of the copy delivered: the mailId of the `received` event. */
  mailId: string;
}

type DigestRecord = Pending | Committed;

/** The digests' records, each kept windowMs after it was written (the digest log answers at once, the store later). */
interface DigestRecords {
  /** Write `r` unless a live record exists: false then, nothing written. */
  create(digest: string, r: DigestRecord): boolean | Promise<boolean>;
  get(digest: string): DigestRecord | undefined | Promise<DigestRecord | undefined>;
  put(digest: string, r: DigestRecord): void | Promise<void>;
  remove(digest: string): void | Promise<void>;
  close(): void;
}

/** Keys `gate-in:<digest>` of the state store (Redis: shared by the nodes). */
class StoreDigests implements DigestRecords {
  constructor(
    private readonly store: StateStore,
    private readonly windowMs: number,
  ) {}

  async create(digest: string, r: DigestRecord): Promise<boolean> {
    return this.store.set(InboundDedupe.key(digest), JSON.stringify(r), { ifAbsent: true, ttlMs: this.windowMs });
  }

  async get(digest: string): Promise<DigestRecord | undefined> {
    const raw = await this.store.get(InboundDedupe.key(digest));
    return raw === undefined ? undefined : (JSON.parse(raw) as DigestRecord);
  }

  async put(digest: string, r: DigestRecord): Promise<void> {
    await this.store.set(InboundDedupe.key(digest), JSON.stringify(r), { ttlMs: this.windowMs });
  }

  async remove(digest: string): Promise<void> {
    await this.store.del(InboundDedupe.key(digest));
  }

  close(): void {}
}

export type Claim =
  /** This copy goes to Postfix; `commit` once Postfix answered 250, `release` otherwise. */
  | { kind: 'new'; digest: string; at: string; tookOverFrom?: string; commit(mailId: string): Promise<void>; release(): Promise<void> }
  /** Postfix already holds a copy: answer 250, deliver nothing. */
  | { kind: 'committed'; digest: string; at: string; mailId: string }
  /** Another live process is waiting for Postfix's answer to a copy: 451. */
  | { kind: 'in-flight'; digest: string; holder: string }
  /** The store did not answer: delivered without the check (never lose mail; logged). */
  | { kind: 'unchecked'; digest: string; error: unknown };

export interface DedupeOptions {
  node: string;
  /** How long a digest is remembered (gates.in.duplicateWindowHours). */
  windowMs: number;
  /** Postfix's final-dot timeout (the claim's life). */
  dataDoneTimeoutMs: number;
  now?: () => number;
  pidAlive?: (pid: number) => boolean;
  /** DEFAULT_STORE_WAIT_MS unless given. */
  storeWaitMs?: number;
  /**
   * With the embedded store: the directory of this node's digest log (digest-log.ts), used
   * instead of the store's keys. Without it the records are keys of `store`.
   */
  logDir?: string;
}

/** The digest of one message: who sent it, its envelope, then its content as it streams. */
export class MessageDigest {
  private readonly hash: Hash = createHash('sha256');

  constructor(peer: string, mailFrom: string, recipients: readonly string[]) {
    // JSON: no separator ambiguity between the fields; addresses compared as the peer wrote them.
    this.hash.update(`${JSON.stringify([peer, mailFrom, recipients])}\n`);
  }

  push(chunk: Buffer): void {
    this.hash.update(chunk);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

export class InboundDedupe {
  private readonly now: () => number;
  private readonly alive: (pid: number) => boolean;
  private readonly storeWaitMs: number;
  /** Since when (wall clock, ms) the store has failed every claim; undefined while it answers. */
  private failingSince: number | undefined;
  private readonly records: DigestRecords;

  constructor(
    private readonly store: StateStore,
    private readonly opts: DedupeOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.alive = opts.pidAlive ?? pidAlive;
    this.storeWaitMs = opts.storeWaitMs ?? DEFAULT_STORE_WAIT_MS;
    this.records = opts.logDir ? new DigestLog<DigestRecord>(opts.logDir, opts.windowMs, this.now) : new StoreDigests(store, opts.windowMs);
  }

  close(): void {
    this.records.close();
  }

  static key(digest: string): string {
    return `gate-in:${digest}`;
  }

  /** Called with the whole content streamed to Postfix, before its final dot. */
  async claim(digest: string): Promise<Claim> {
    for (;;) {
      try {
        const claim = await this.tryClaim(digest);
        this.failingSince = undefined;
        return claim;
      } catch (error) {
        // A store that fails for a moment (a Sentinel failover) is waited for: unchecked, a
        // retried copy would be delivered twice. One that has failed for longer than the wait
        // is an outage: the copies go through at once (mail is never held back by the store),
        // and the first claim that succeeds ends it.
        const now = Date.now();
        this.failingSince ??= now;
        if (now - this.failingSince >= this.storeWaitMs) return { kind: 'unchecked', digest, error };
        await delay(STORE_RETRY_MS);
      }
    }
  }

  private async tryClaim(digest: string): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const at = new Date(this.now()).toISOString();
      if (await this.records.create(digest, this.pending(at))) return this.claimed(digest, at);
      const r = await this.records.get(digest);
      if (r === undefined) continue; // expired or released meanwhile: claim again
      if (r.state === 'committed') return { kind: 'committed', digest, at: r.at, mailId: r.mailId };
      if (!(await this.holderGone(r))) return { kind: 'in-flight', digest, holder: `${r.node}/${r.pid}` };
      // Its holder is gone: Postfix may or may not hold its copy, this one is delivered under
      // the first copy's event time and id (counted once). Two copies taking over the same
      // dead claim at the same instant both deliver: a duplicate, never a loss.
      await this.records.put(digest, this.pending(r.at));
      return this.claimed(digest, r.at, `${r.node}/${r.pid}`);
    }
    throw new Error(`gate-in digest ${digest} kept changing under three claims`);
  }

  private pending(at: string): Pending {
    const now = this.now();
    return { state: 'pending', at, node: this.opts.node, pid: process.pid, claimedAt: now, until: now + this.opts.dataDoneTimeoutMs + CLAIM_MARGIN_MS };
  }

  private claimed(digest: string, at: string, tookOverFrom?: string): Claim {
    return {
      kind: 'new',
      digest,
      at,
      ...(tookOverFrom ? { tookOverFrom } : {}),
      commit: async (mailId) => {
        const c: Committed = { state: 'committed', at, mailId };
        await this.records.put(digest, c);
      },
      release: async () => {
        await this.records.remove(digest);
      },
    };
  }

  /** The process that claimed `r` can no longer answer for it. */
  private async holderGone(r: Pending): Promise<boolean> {
    if (this.now() > r.until) return true;
    if (r.node === this.opts.node) return r.pid !== process.pid && !this.alive(r.pid);
    const hb = await liveNode(this.store, r.node);
    // No heartbeat: the node stopped beating three heartbeats ago. A heartbeat that started
    // after the claim: the node's serve was restarted since (its claim died with it).
    return !hb || Date.parse(hb.startedAt) > r.claimedAt;
  }
}
