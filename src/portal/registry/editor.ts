// The portal's side of the registry worker: requests queued (bounded) to one worker thread,
// answers matched by id; a worker that dies fails what was in flight and is started again on
// the next request. After a change the daemon's registry is reloaded at once, so the next
// IMAP login sees the new delegate without waiting for the file watch.
import { Worker } from 'node:worker_threads';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { LoadOptions } from '../../registry/load.js';
import type { EditOp, EditReply, EditRequest, EditWho } from './edit-protocol.js';

export interface EditorOptions {
  file: string;
  load: LoadOptions;
  tracesDir: string;
  log: Logger;
  /** Called after each change that was written (the daemon's registry holder reloads). */
  changed: () => Promise<unknown>;
  /** More requests waiting than this are refused with PORTAL_BUSY. */
  maxPending?: number;
  /** Runs each change (several nodes: as the cluster's only registry change, cluster/registry-sync.ts). */
  around?: <T>(change: () => Promise<T>) => Promise<T>;
}

export interface EditOutcome {
  warnings: string[];
}

export class RegistryEditor {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: EditOutcome) => void; reject: (e: MssError) => void }>();

  constructor(private readonly o: EditorOptions) {}

  async run(op: EditOp, address: string, requestedBy: string, who: EditWho): Promise<EditOutcome> {
    if (this.pending.size >= (this.o.maxPending ?? 16)) throw new MssError('PORTAL_BUSY', 'too many registry changes waiting; try again');
    const change = (): Promise<EditOutcome> => {
      const worker = this.started();
      const id = this.nextId++;
      const outcome = new Promise<EditOutcome>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      worker.postMessage({ ...op, id, address, requestedBy, who } as EditRequest);
      return outcome;
    };
    const result = await (this.o.around ? this.o.around(change) : change());
    await this.o.changed().catch((err: unknown) => this.o.log.error({ err }, 'registry reload after a portal change failed; the file watch will retry'));
    return result;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./edit-worker.js', import.meta.url), {
      workerData: { file: this.o.file, load: this.o.load, tracesDir: this.o.tracesDir },
    });
    worker.on('message', (reply: EditReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve({ warnings: reply.warnings });
      else p.reject(new MssError(reply.error.code, reply.error.message));
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new MssError('PORTAL_EDITOR_DOWN', `the registry worker stopped (${why}); the change may not have been made`));
      }
    };
    worker.on('error', (err) => {
      this.o.log.error({ err }, 'portal registry worker failed');
      fail(err.message);
    });
    worker.on('exit', (code) => fail(`exit ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
