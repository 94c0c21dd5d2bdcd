// The CRLs as the gates hold them (EX_OPE_5050): every file of trust.crlDir verified and
// indexed (crl.ts), reloaded when `crl sync` replaces one, and a loud message for every CA
// of the trust store without a current CRL — with crl.requireCurrent (the default), the
// gates then refuse peers certified by that CA, so the operator must hear about it.
import fs from 'node:fs';
import { describeCert } from './certificate.js';
import type { CertInfo } from './certificate.js';
import { RevocationStore } from './crl.js';
import type { RevocationChecker, RevocationStatus, TrustStore } from './truststore.js';
import type { Logger } from '../log.js';

export interface RevocationHolderOptions {
  trust: TrustStore;
  /** trust.crlDir; undefined: no CRL at all (every status is "unknown"). */
  dir?: string;
  requireCurrent: boolean;
  log: Logger;
  /** Directory listing check period (ms); 0 disables it. Change events are watched too. */
  pollMs?: number;
  now?: () => Date;
}

export class RevocationHolder implements RevocationChecker {
  private store: RevocationStore;
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastListing = '';
  private reloading: Promise<void> = Promise.resolve();
  /** Incremented at every reload: cached verdicts older than this are checked again. */
  generation = 0;

  private constructor(private readonly opts: RevocationHolderOptions) {
    this.store = new RevocationStore(opts.trust);
  }

  static async open(opts: RevocationHolderOptions): Promise<RevocationHolder> {
    const holder = new RevocationHolder(opts);
    await holder.reload();
    holder.watch();
    return holder;
  }

  get requireCurrent(): boolean {
    return this.opts.requireCurrent;
  }

  get current(): RevocationStore {
    return this.store;
  }

  status(cert: CertInfo, issuer: CertInfo, at: Date): RevocationStatus {
    return this.store.status(cert, issuer, at);
  }

  /** Read the directory again; resolves once the new CRLs are in use. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload());
    return this.reloading;
  }

  private listing(): string {
    const dir = this.opts.dir;
    if (!dir) return '';
    try {
      return fs
        .readdirSync(dir)
        .sort()
        .map((n) => {
          const st = fs.statSync(`${dir}/${n}`, { throwIfNoEntry: false });
          return `${n}:${st?.size ?? 0}:${st?.mtimeMs ?? 0}`;
        })
        .join('|');
    } catch {
      return 'missing';
    }
  }

  private async doReload(): Promise<void> {
    const { dir, trust, log } = this.opts;
    this.lastListing = this.listing();
    const now = this.opts.now?.() ?? new Date();
    const store = dir ? await RevocationStore.fromDir(dir, trust, now) : new RevocationStore(trust);
    for (const p of store.problems) log.error({ code: p.code, dir }, `CRL file refused (${p.code}): ${p.message}`);
    this.store = store;
    this.generation++;
    log.info({ dir, crls: store.crls.length, deltas: store.deltas.length }, 'CRLs loaded');
    this.reportMissing(now);
  }

  /** Say it loudly for every CA whose certificates cannot be checked right now. */
  reportMissing(now: Date): void {
    const { log, trust, requireCurrent, dir } = this.opts;
    for (const ca of trust.certificates) {
      if (this.store.isCurrent(ca, now)) continue;
      const consequence = requireCurrent
        ? 'peers certified by it are REFUSED until `mss-sidecar crl sync` stores a current CRL (crl.requireCurrent)'
        : 'peers certified by it are accepted WITHOUT a revocation check (crl.requireCurrent: false)';
      const line = `no current CRL of ${describeCert(ca)} in ${dir ?? '(trust.crlDir not set)'}: ${consequence}`;
      if (requireCurrent) log.error({ code: 'CRL_MISSING', ca: describeCert(ca) }, line);
      else log.warn({ code: 'CRL_MISSING', ca: describeCert(ca) }, line);
    }
  }

  private watch(): void {
    const dir = this.opts.dir;
    if (!dir) return;
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.watcher = fs.watch(dir, { persistent: false }, () => {
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 100);
        this.debounce.unref();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      /* no change events: the poller does the work */
    }
    const every = this.opts.pollMs ?? 60_000;
    if (every > 0) {
      this.poller = setInterval(() => {
        if (this.listing() !== this.lastListing) void this.reload();
      }, every);
      this.poller.unref();
    }
  }

  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
