// One registry across the nodes. Each node keeps the registry file where its commands, its
// jobs and its daemon read it (registry.file); the shared store holds the cluster's version:
//   registry:head               hash {hash, seq, node, at, bytes}: which version, written by whom
//   registry:content:<sha256>   the file itself, gzip, base64
// and each node remembers the version it last agreed with the cluster
// (<state.dir>/cluster/registry-synced.json), which tells who changed what:
//   - file = cluster                    in sync;
//   - file changed, cluster = agreed    the change is this node's (a command, a job, the portal,
//                                       an edit by hand): it is sent to the cluster;
//   - cluster changed, file = agreed    another node's change: it is written here (atomic
//                                       rename, owner and mode kept) and the daemon reloads;
//   - both changed                      a conflict: nothing is overwritten, `status` says
//                                       CRIT until the administrator picks a side
//                                       (`mss-sidecar cluster registry --take-cluster|--send-local`).
// Changes made by the tools (`bal …`, the portal, the lifecycle job, the Annuaire
// corrections) run under the cluster lease "registry" (edit()): they first take the cluster's
// version, change it, and send it before anyone else may change it — they never conflict.
// Only two hand edits on two nodes between two syncs can. `serve` syncs every
// cluster.registrySyncMs (2 s): a change made on one node is in use on the others within
// that, plus the time to load it (docs/cluster.md).
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MssError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { contentHash } from '../registry/cache.js';
import type { StateStore } from '../store/store.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { withFileLockSync } from '../util/file-lock.js';
import { clusterIdentity } from './identity.js';
import { runUnderLease } from './lease-context.js';
import { describeHolder, HeldLease, tryLease } from './lease.js';

export interface RegistryHead {
  hash: string;
  seq: number;
  node: string;
  at: string;
  bytes: number;
}

export type SyncOutcome = 'in-sync' | 'sent' | 'taken' | 'conflict' | 'busy';

export interface SyncState {
  outcome: SyncOutcome;
  local: string;
  cluster?: RegistryHead;
  /** The version this node last agreed with the cluster. */
  agreed?: { hash: string; seq: number };
}

const HEAD = 'registry:head';
const LEASE = 'registry';
const contentKey = (hash: string): string => `registry:content:${hash}`;

export class RegistrySync {
  private cached: { key: string; hash: string } | undefined;
  private readonly agreedFile: string;
  private conflictLogged: string | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly file: string,
    stateDir: string,
    private readonly log: Logger = silentLogger,
  ) {
    this.agreedFile = path.join(stateDir, 'cluster', 'registry-synced.json');
  }

  async head(): Promise<RegistryHead | undefined> {
    const h = await this.store.hgetall(HEAD);
    if (!h.hash) return undefined;
    return { hash: h.hash, seq: Number(h.seq ?? 0), node: h.node ?? '', at: h.at ?? '', bytes: Number(h.bytes ?? 0) };
  }

  /** SHA-256 of the local file (recomputed only when its size, time or inode changed). */
  localHash(): string {
    const st = fs.statSync(this.file);
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cached?.key !== key) this.cached = { key, hash: contentHash(fs.readFileSync(this.file)) };
    return this.cached.hash;
  }

  agreed(): { hash: string; seq: number } | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.agreedFile, 'utf8')) as { hash: string; seq: number };
    } catch {
      return undefined;
    }
  }

  private setAgreed(head: { hash: string; seq: number }): void {
    fs.mkdirSync(path.dirname(this.agreedFile), { recursive: true, mode: 0o700 });
    atomicWriteFileSync(this.agreedFile, JSON.stringify({ hash: head.hash, seq: head.seq }), { mode: 0o600 });
  }

  /** Where this node stands, without changing anything. */
  async state(): Promise<SyncState> {
    const cluster = await this.head();
    const local = this.localHash();
    const agreed = this.agreed();
    return { outcome: judge(local, cluster, agreed), local, ...(cluster ? { cluster } : {}), ...(agreed ? { agreed } : {}) };
  }

  /**
   * The daemon's periodic step: send this node's change, or take the cluster's. Never waits
   * for the lease (another node is changing the registry: next time).
   */
  async sync(): Promise<SyncState> {
    const before = await this.state();
    if (before.outcome === 'in-sync') {
      if (before.cluster && before.agreed?.hash !== before.local) this.setAgreed(before.cluster);
      return before;
    }
    if (before.outcome === 'conflict') return this.reportConflict(before);
    const lease = await tryLease(this.store, LEASE, { log: this.log });
    if (!(lease instanceof HeldLease)) return { ...before, outcome: 'busy' };
    try {
      return await runUnderLease(lease, () => this.converge(lease));
    } finally {
      await lease.release();
    }
  }

  /**
   * Run a registry change (`fn` edits registry.file) as the only one in the cluster: take the
   * cluster's version first, send the result after. Waits up to `waitMs` for another node's
   * change to end. Throws REGISTRY_CLUSTER_CONFLICT when this node's file and the cluster's
   * both changed since they last agreed (a hand edit).
   */
  async edit<T>(fn: () => T | Promise<T>, waitMs = 30_000): Promise<T> {
    return this.underLease(waitMs, async (lease) => {
      const now = await this.converge(lease);
      if (now.outcome === 'conflict') throw conflictError(this.file, now);
      const result = await fn();
      await this.converge(lease);
      return result;
    });
  }

  /** Resolve a conflict: keep the cluster's version (this file saved beside it), or send this one. */
  async resolve(side: 'take-cluster' | 'send-local', waitMs = 30_000): Promise<SyncState> {
    return this.underLease(waitMs, async (lease) => {
      const s = await this.state();
      if (s.outcome !== 'conflict') return this.converge(lease);
      if (side === 'send-local') {
        const head = await this.send(lease, s.cluster);
        return { outcome: 'sent' as const, local: head.hash, cluster: head, agreed: head };
      }
      fs.copyFileSync(this.file, `${this.file}.conflict-${new Date().toISOString().replace(/[:.]/g, '')}`);
      const head = await this.take(s.cluster as RegistryHead, s.local);
      return { outcome: 'taken' as const, local: head.hash, cluster: head, agreed: head };
    });
  }

  private async underLease<T>(waitMs: number, fn: (lease: HeldLease) => Promise<T>): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lease = await tryLease(this.store, LEASE, { log: this.log });
      if (lease instanceof HeldLease) {
        try {
          return await runUnderLease(lease, () => fn(lease));
        } finally {
          await lease.release();
        }
      }
      if (Date.now() >= deadline)
        throw new MssError(
          'TEMPORARY_REGISTRY_BUSY',
          `another node is changing the registry (cluster lease ${LEASE} ${describeHolder(lease.current)}); try again`,
          { file: this.file },
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Under the lease: make file and cluster agree when only one side changed. */
  private async converge(lease: HeldLease): Promise<SyncState> {
    const s = await this.state();
    if (s.outcome === 'in-sync') {
      if (s.cluster && s.agreed?.hash !== s.local) this.setAgreed(s.cluster);
      return s;
    }
    if (s.outcome === 'conflict') return this.reportConflict(s);
    if (s.outcome === 'sent') {
      const head = await this.send(lease, s.cluster);
      return { outcome: 'sent', local: head.hash, cluster: head, agreed: head };
    }
    const taken = await this.take(s.cluster as RegistryHead, s.local);
    return { outcome: 'taken', local: taken.hash, cluster: taken, agreed: taken };
  }

  private async send(lease: HeldLease, previous: RegistryHead | undefined): Promise<RegistryHead> {
    const bytes = fs.readFileSync(this.file);
    const hash = contentHash(bytes);
    const head: RegistryHead = { hash, seq: (previous?.seq ?? 0) + 1, node: clusterIdentity().node, at: new Date().toISOString(), bytes: bytes.length };
    const fence = { name: LEASE, token: lease.token };
    lease.assertHeld();
    await this.store.fencedWrite(fence, { op: 'set', key: contentKey(hash), value: gzipSync(bytes).toString('base64') });
    await this.store.fencedWrite(fence, {
      op: 'hset',
      key: HEAD,
      fields: { hash, seq: String(head.seq), node: head.node, at: head.at, bytes: String(head.bytes) },
    });
    if (previous && previous.hash !== hash) await this.store.fencedWrite(fence, { op: 'del', key: contentKey(previous.hash) });
    this.setAgreed(head);
    this.log.info({ file: this.file, hash: hash.slice(0, 16), seq: head.seq }, 'registry change of this node sent to the cluster');
    return head;
  }

  private async take(head: RegistryHead, expectedLocal: string): Promise<RegistryHead> {
    const stored = await this.store.get(contentKey(head.hash));
    if (stored === undefined)
      throw new MssError(
        'TEMPORARY_REGISTRY_SYNC',
        `the cluster's registry ${head.hash.slice(0, 16)}… (seq ${head.seq}) has no content in the store yet; next time`,
      );
    const bytes = gunzipSync(Buffer.from(stored, 'base64'));
    if (contentHash(bytes) !== head.hash)
      throw new MssError('REGISTRY_SYNC_CORRUPT', `the cluster's registry content does not match its hash ${head.hash.slice(0, 16)}…; not written`);
    withFileLockSync(`${this.file}.lock`, () => {
      // Changed by hand or by a command since we looked: that change goes first (next sync).
      if (contentHash(fs.readFileSync(this.file)) !== expectedLocal)
        throw new MssError('TEMPORARY_REGISTRY_CHANGED', `${this.file} changed while the cluster's version was being written; next time`);
      const st = fs.statSync(this.file);
      atomicWriteFileSync(this.file, bytes, { mode: st.mode & 0o7777 });
      try {
        if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) fs.chownSync(this.file, st.uid, st.gid);
      } catch {
        /* the content is right; the owner is ours */
      }
    });
    this.setAgreed(head);
    this.log.info({ file: this.file, hash: head.hash.slice(0, 16), seq: head.seq, from: head.node }, `registry change of node ${head.node} written here`);
    return head;
  }

  private reportConflict(s: SyncState): SyncState {
    const key = `${s.local}/${s.cluster?.hash}`;
    if (this.conflictLogged !== key) {
      this.conflictLogged = key;
      this.log.error(
        { file: this.file, local: s.local.slice(0, 16), cluster: s.cluster?.hash.slice(0, 16), clusterNode: s.cluster?.node },
        conflictError(this.file, s).message,
      );
    }
    return s;
  }
}

function judge(local: string, cluster: RegistryHead | undefined, agreed: { hash: string } | undefined): SyncOutcome {
  if (!cluster) return 'sent'; // the first node publishes its file
  if (cluster.hash === local) return 'in-sync';
  // A node that never agreed with the cluster (joining it) takes the cluster's version.
  if (!agreed || agreed.hash === local) return 'taken';
  if (agreed.hash === cluster.hash) return 'sent';
  return 'conflict';
}

function conflictError(file: string, s: SyncState): MssError {
  return new MssError(
    'REGISTRY_CLUSTER_CONFLICT',
    `${file} and the cluster's registry both changed since this node last agreed with it (local ${s.local.slice(0, 12)}…, cluster ${s.cluster?.hash.slice(0, 12)}… from node ${s.cluster?.node} at ${s.cluster?.at}): nothing is overwritten. Keep the cluster's (\`mss-sidecar cluster registry --take-cluster\`, this file is saved beside it) or this one (\`--send-local\`)`,
    { file },
  );
}
