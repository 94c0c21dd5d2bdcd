// The liste blanche as the daemons hold it: the last valid copy stored by `whitelist sync`,
// verified again each time it is loaded (RE_2.2_5010: integrity checked on local use, so a
// copy modified on disk is never used), reloaded when the file changes, and queried through
// a WhitelistIndex (O(1) lookups). A copy that fails verification never replaces the one in
// use (EX_2.2_5035). A copy refused only because a CA of its signer has no current CRL
// (crl.requireCurrent) is tried again at every poll, so it is taken once `crl sync` runs.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatDn } from '../pki/dn.js';
import { whitelistSetup, type SetupOverrides } from './from-config.js';
import { listAgeHours, pathsForFile } from './store.js';
import { verifyWhitelist, type VerifyPolicy } from './verify.js';
import type { WhitelistIndex } from './whitelist-index.js';

export interface HolderOptions {
  /** The last valid copy (state.dir/whitelist/listeblanchemssante.xml). */
  file: string;
  /** From whitelistSetup(): the same checks as every other use of the list. */
  policy: VerifyPolicy;
  log: Logger;
  /** Warn at load when the list was last confirmed longer ago than this. */
  maxAgeHours?: number;
  /** Watch the file and reload on change (default true). */
  watch?: boolean;
  /** Safety net for file systems without change events (default 60 s; 0 disables). */
  pollMs?: number;
  now?: () => Date;
}

interface Loaded {
  index: WhitelistIndex;
  sha256: string;
  signer: string;
  loadedAt: Date;
}

export class WhitelistHolder {
  private loaded: Loaded | undefined;
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastStat = '';
  /** The last copy read was refused only for want of a current CRL: try it again at each poll. */
  private awaitingCrl = false;
  private readonly listeners = new Set<(index: WhitelistIndex) => void>();

  constructor(private readonly opts: HolderOptions) {}

  /** Load now, then follow changes. Does not throw when no valid copy exists yet. */
  start(): this {
    this.reload();
    const dir = path.dirname(this.opts.file);
    if (this.opts.watch !== false) {
      fs.mkdirSync(dir, { recursive: true });
      // Atomic replacement is a rename into the directory: watch the directory.
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === path.basename(this.opts.file)) this.scheduleReload();
      });
      this.watcher.on('error', (err) => this.opts.log.warn({ err }, 'liste blanche watch failed; polling only'));
    }
    const pollMs = this.opts.pollMs ?? 60_000;
    if (pollMs > 0) {
      this.poller = setInterval(() => {
        // EX_2.2_5050: a copy refused for want of a current CRL is taken once `crl sync` stores one.
        if (this.awaitingCrl || this.statKey() !== this.lastStat) this.reload();
      }, pollMs);
      this.poller.unref();
    }
    return this;
  }

  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** The index in use, or undefined before any valid copy was loaded. */
  get index(): WhitelistIndex | undefined {
    return this.loaded?.index;
  }

  /** The index in use; throws WL_NOT_AVAILABLE when there is none (fail closed). */
  require(): WhitelistIndex {
    if (!this.loaded) {
      throw new MssError('WL_NOT_AVAILABLE', `no verified liste blanche is available (${this.opts.file}); run \`mss-sidecar whitelist sync\``, {
        file: this.opts.file,
      });
    }
    return this.loaded.index;
  }

  onChange(listener: (index: WhitelistIndex) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private statKey(): string {
    try {
      const st = fs.statSync(this.opts.file);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private scheduleReload(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), 50);
    this.debounce.unref();
  }

  /** (Re)load and verify the file. True when a new list is now in use. */
  reload(): boolean {
    const log = this.opts.log;
    this.lastStat = this.statKey();
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.opts.file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!this.loaded)
        log.error(
          { code: 'WL_NOT_AVAILABLE', file: this.opts.file },
          `no liste blanche at ${this.opts.file} (${code}); mail to and from MSSanté domains is refused until \`whitelist sync\` succeeds`,
        );
      return false;
    }
    const now = this.opts.now?.() ?? new Date();
    this.awaitingCrl = false;
    try {
      // RE_2.2_5010: the signature is verified again on local use, not only after download.
      const v = verifyWhitelist(bytes, { ...this.opts.policy, at: now, source: this.opts.file });
      if (this.loaded?.sha256 === v.sha256) return false;
      if (v.unchecked) log.warn({ code: v.unchecked.code, ca: v.unchecked.ca, file: this.opts.file }, v.unchecked.message);
      this.loaded = { index: v.index, sha256: v.sha256, signer: formatDn(v.signer.subject), loadedAt: now };
      log.info({ file: this.opts.file, generated: v.index.generated, domains: v.index.domainCount, dns: v.index.dnCount }, 'liste blanche loaded');
      this.warnIfStale(v.sha256, now);
      for (const l of this.listeners) l(v.index);
      return true;
    } catch (thrown) {
      const err = asMssError(thrown);
      this.awaitingCrl = err.code === 'WL_SIGNER_REVOCATION_UNKNOWN';
      log.error(
        { code: err.code, file: this.opts.file },
        `liste blanche ${this.opts.file} refused (${err.code}): ${err.message}; ${this.loaded ? `still using the list generated ${this.loaded.index.generated}` : 'no list in use'}`,
      );
      return false;
    }
  }

  private warnIfStale(sha256: string, now: Date): void {
    if (this.opts.maxAgeHours === undefined) return;
    const age = listAgeHours(pathsForFile(this.opts.file), sha256, now);
    if (age !== undefined && age > this.opts.maxAgeHours) {
      this.opts.log.warn(
        { code: 'WL_STALE', ageHours: Math.round(age), maxAgeHours: this.opts.maxAgeHours },
        `the liste blanche in use was last confirmed ${Math.round(age)} h ago; check \`whitelist sync\``,
      );
    }
  }
}

/** A holder on the configured last valid copy, started. `overrides.revocation`: the daemon's reloading CRLs. */
export async function openWhitelistHolder(
  config: Config,
  log: Logger,
  extra: Partial<HolderOptions> = {},
  overrides: SetupOverrides = {},
): Promise<WhitelistHolder> {
  const setup = await whitelistSetup(config, overrides);
  return new WhitelistHolder({
    file: setup.paths.file,
    policy: setup.policy,
    maxAgeHours: config.whitelist.maxAgeHours,
    log,
    ...extra,
  }).start();
}
