// The registry as the daemon sees it: loaded once, then reloaded whenever the file
// changes (a CLI edit or a deployment), without ever answering from a half-loaded or
// invalid registry. A change is noticed by a directory watch (an atomic rename replaces
// the file's inode, so the directory is what to watch) and, in case events are missed, by
// a periodic content check. An invalid new file is refused and logged; the previous
// registry stays in use (fail-safe: a typo must not lock every user out).
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MssError, type ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { contentHash } from './cache.js';
import { fromCache, readRegistryBytes, type LoadOptions } from './load.js';
import { Registry } from './registry.js';
import { validationContext, type RegistryProblem } from './rules.js';
import type { BalEntry } from './schema.js';

export interface HolderOptions {
  file: string;
  load: LoadOptions;
  log?: Logger;
  /** Content check period (ms); 0 disables it. */
  pollMs?: number;
  /** Delay between a change event and the reload, to let writers finish (ms). */
  debounceMs?: number;
}

type Listener = (registry: Registry) => void;

export class RegistryHolder {
  private registry: Registry;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private chain: Promise<boolean> = Promise.resolve(false);
  private readonly listeners = new Set<Listener>();
  /** The last refused reload, if the file is currently invalid. */
  lastError: MssError | undefined;

  private constructor(
    private readonly opts: HolderOptions,
    initial: Registry,
  ) {
    this.registry = initial;
  }

  static async open(opts: HolderOptions): Promise<RegistryHolder> {
    const initial = await compile(opts);
    const holder = new RegistryHolder(opts, initial);
    holder.watch();
    return holder;
  }

  /** The registry in use; cheap, call it for every request. */
  current(): Registry {
    return this.registry;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reload now if the file's content changed; resolves true when a new registry is in use. */
  reload(): Promise<boolean> {
    // Reloads run one after the other; each one looks at the file as it is when it starts.
    const next = this.chain.then(() => this.doReload());
    this.chain = next.catch(() => false);
    return next;
  }

  close(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher = undefined;
    this.timer = undefined;
  }

  private async doReload(): Promise<boolean> {
    const log = this.opts.log ?? silentLogger;
    let bytes: Buffer;
    try {
      bytes = readRegistryBytes(this.opts.file);
    } catch (err) {
      log.error({ err }, 'registry file unreadable; keeping the registry in use');
      return false;
    }
    if (contentHash(bytes) === this.registry.hash) return false;
    try {
      const next = await compile(this.opts);
      if (next.hash === this.registry.hash) return false;
      this.registry = next;
      this.lastError = undefined;
      log.info({ file: this.opts.file, mailboxes: next.size, warnings: next.warnings.length }, 'registry reloaded');
      for (const l of this.listeners) l(next);
      return true;
    } catch (err) {
      this.lastError = err instanceof MssError ? err : new MssError('REGISTRY_INVALID', String(err));
      log.error(
        { code: this.lastError.code, problems: this.lastError.details.problems },
        `registry change refused, keeping the registry in use: ${this.lastError.message}`,
      );
      return false;
    }
  }

  private watch(): void {
    const dir = path.dirname(this.opts.file);
    const base = path.basename(this.opts.file);
    try {
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name !== null && name !== base) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs ?? 200);
        this.debounce.unref();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      /* no inotify: the periodic check does the work */
    }
    const every = this.opts.pollMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => void this.reload(), every);
      this.timer.unref();
    }
  }
}

/** Compiled cache when possible (fast, in this thread), else a worker thread. */
async function compile(opts: HolderOptions): Promise<Registry> {
  const ctx = validationContext(opts.load);
  const cached = fromCache(opts.file, contentHash(readRegistryBytes(opts.file)), opts.load);
  if (cached) return cached;
  const result = await new Promise<
    | { ok: true; hash: string; entries: BalEntry[]; warnings: RegistryProblem[] }
    | { ok: false; error: { code: ErrorCode; message: string; details: Record<string, unknown> } }
  >((resolve, reject) => {
    const worker = new Worker(new URL('./compile-worker.js', import.meta.url), { workerData: { file: opts.file, load: opts.load } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new MssError('REGISTRY_WORKER', `registry compile worker exited with ${code}`));
    });
  });
  if (!result.ok) throw new MssError(result.error.code, result.error.message, result.error.details);
  return new Registry(result.entries, { file: opts.file, hash: result.hash, domains: ctx.domains, warnings: result.warnings });
}
