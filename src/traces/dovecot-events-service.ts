// `serve` service `dovecot-events` (traces.dovecotEvents): turns the events Dovecot exported
// into functional traces (dovecot-events.ts): EX_GDT_5030, EX_GDT_5040, §6.9.2 « connexion et
// déconnexion ». Dovecot's stats process posts them (dovecot/conf.d/91-mss-mail-log.conf) to
// the spool's writer, a service of Dovecot's own master (dovecot-events-spool.ts), which
// appends them to the spool in the state directory; this service reads the spool from its
// persisted position (dovecot-events-spool-reader.ts). So an event exported while `serve` is
// stopped, restarting or crashed is traced when it runs again, once: Dovecot 2.3.19 itself
// drops an event nobody answers and has no file transport.
// The service writes the URL Dovecot posts to (traces.dovecotEvents.listen, with a random key)
// to traces.dovecotEvents.urlFile, without a line end, which Dovecot reads with
// `transport_args = <file` and the spool's writer reads to check the key: another local
// process that does not know the key cannot forge traces.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { Logger } from '../log.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { dovecotEventSchema, traceOfDovecotEvent, type DovecotEvent } from './dovecot-events.js';
import { DOVECOT_EVENTS_PATH, ensureSpoolDir, readKey, spoolDirOf } from './dovecot-events-spool-files.js';
import { DovecotEventsSpoolReader, type SpoolPosition } from './dovecot-events-spool-reader.js';
import { DovecotSessions } from './dovecot-sessions.js';
import type { TraceInput } from './record.js';
import type { TraceLog } from './trace-log.js';
import { dovecotEventsUrlFile } from './config.js';

export { DOVECOT_EVENTS_PATH } from './dovecot-events-spool-files.js';

export interface DovecotEventsOptions {
  /** Where Dovecot's spool writer listens (the inet_listener of 91-mss-mail-log.conf): the URL's host and port. */
  listen: { host: string; port: number };
  urlFile: string;
  maxEventBytes: number;
  traces: TraceLog;
  sessions: DovecotSessions;
  log: Logger;
  /** How often the spool is looked at besides its directory's change notifications (ms). */
  pollMs?: number;
  /** How long a final segment is left alone before the reader moves past it (ms; the reader's default otherwise). */
  quietMs?: number;
}

export class DovecotEventsService implements Service {
  readonly name = 'dovecot-events';
  readonly spoolDir: string;
  private readonly reader: DovecotEventsSpoolReader;
  private key = '';
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Events traced, refused (too large, not an event) and not operations (ignored). */
  readonly counts = { traced: 0, refused: 0, ignored: 0 };

  constructor(private readonly o: DovecotEventsOptions) {
    this.spoolDir = spoolDirOf(o.urlFile);
    this.reader = new DovecotEventsSpoolReader(this.spoolDir, o.maxEventBytes, o.quietMs);
  }

  get url(): string {
    return `http://${this.o.listen.host}:${this.o.listen.port}${DOVECOT_EVENTS_PATH}${this.key}`;
  }

  async start(): Promise<void> {
    // The key of an existing URL file is kept: Dovecot's configuration stays valid across restarts.
    this.key = readKey(this.o.urlFile) ?? randomBytes(24).toString('base64url');
    // No line end: Dovecot 2.3's stats process stops on a URL it cannot parse.
    fs.mkdirSync(path.dirname(this.o.urlFile), { recursive: true });
    atomicWriteFileSync(this.o.urlFile, this.url, { mode: 0o640 });
    // EX_GDT_5030: the events (user, folder, client address) are readable by the service user only.
    ensureSpoolDir(this.spoolDir);
    this.stopped = false;
    try {
      this.watcher = fs.watch(this.spoolDir, () => this.kick());
      this.watcher.on('error', () => undefined);
    } catch {
      /* the poll below is enough */
    }
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 1000);
    this.timer.unref();
    this.o.log.info(
      { url: this.url.replace(/[^/]+$/, '…'), urlFile: this.o.urlFile, spool: this.spoolDir, position: this.reader.committed() },
      "Dovecot events: tracing Dovecot's spool (content-operation traces)",
    );
    this.kick();
  }

  /** Drains the spool; a call while draining makes the drain look again once done. */
  private kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once everything spooled so far is traced (tests, and the catch-up after a start). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    let from = this.reader.committed();
    while (!this.stopped) {
      let batch;
      try {
        batch = this.reader.next(from);
      } catch (err) {
        this.o.log.error({ code: 'DOVECOT_SPOOL_READ', err, spool: this.spoolDir }, 'could not read the Dovecot events spool (EX_GDT_5030 traces delayed)');
        return;
      }
      for (const r of batch.refusals) {
        this.counts.refused++;
        this.o.log.warn({ ...r, spool: this.spoolDir }, `Dovecot event skipped: ${r.code}`);
      }
      if (batch.lines.length === 0 && samePosition(batch.position, from)) return;
      if (!(await this.trace(batch.lines))) return; // retried at the next kick: nothing is lost
      // EX_GDT_5030: the position moves only once the traces it covers are written.
      this.reader.commit(batch.position);
      from = batch.position;
    }
  }

  /** The traces of these spooled lines, written in one go; false if they could not be (kept for later). */
  private async trace(lines: string[]): Promise<boolean> {
    const events: DovecotEvent[] = [];
    for (const line of lines) {
      try {
        events.push(dovecotEventSchema.parse(JSON.parse(line)));
      } catch {
        this.counts.refused++;
        this.o.log.warn({ code: 'DOVECOT_EVENT_INVALID', bytes: Buffer.byteLength(line) }, 'Dovecot event skipped: not the JSON of an exported event');
      }
    }
    try {
      // Lookups side by side: a session whose login is not recorded waits once, not once per event.
      const who = await Promise.all(events.map((e) => this.o.sessions.lookup(typeof e.fields.session === 'string' ? e.fields.session : undefined)));
      const traces: TraceInput[] = [];
      events.forEach((e, i) => {
        const t = traceOfDovecotEvent(e, who[i]);
        if (t) traces.push(t);
        else this.counts.ignored++;
      });
      if (traces.length > 0) this.o.traces.writeAll(traces);
      this.counts.traced += traces.length;
      return true;
    } catch (err) {
      this.o.log.error({ code: 'DOVECOT_EVENT_TRACE', err }, 'could not trace Dovecot events (EX_GDT_5030 traces delayed; they stay in the spool)');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }
}

function samePosition(a: SpoolPosition, b: SpoolPosition | undefined): boolean {
  return !!b && a.segment === b.segment && a.offset === b.offset && !!a.skipping === !!b.skipping;
}

export const dovecotEventsFactory: ServiceFactory = {
  name: 'dovecot-events',
  create(config: Config, log: Logger, shared) {
    const c = config.traces.dovecotEvents;
    if (!c.enabled) return undefined;
    return new DovecotEventsService({
      listen: c.listen,
      urlFile: dovecotEventsUrlFile(config.traces, config.state.dir),
      maxEventBytes: c.maxEventBytes,
      traces: shared.traces(),
      sessions: new DovecotSessions(shared.store()),
      log: log.child({ part: 'dovecot-events' }),
    });
  },
};
