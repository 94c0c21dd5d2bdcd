// `serve` service `dovecot-events` (traces.dovecotEvents): receives the events Dovecot's
// event exporter posts (dovecot/conf.d/91-mss-mail-log.conf) and writes them as functional
// traces (dovecot-events.ts): EX_GDT_5030, EX_GDT_5040, §6.9.2 « connexion et déconnexion ».
// HTTP on loopback; the URL carries a random key, written (without a line end) to
// traces.dovecotEvents.urlFile, which Dovecot reads with `transport_args = <file`: another
// local process that does not know the key cannot forge traces. Bounded bodies, one JSON
// event per request, answered once the trace is written.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { Logger } from '../log.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { dovecotEventSchema, traceOfDovecotEvent } from './dovecot-events.js';
import { DovecotSessions } from './dovecot-sessions.js';
import type { TraceLog } from './trace-log.js';

export const DOVECOT_EVENTS_PATH = '/v1/dovecot-events/';

export interface DovecotEventsOptions {
  listen: { host: string; port: number };
  urlFile: string;
  maxEventBytes: number;
  traces: TraceLog;
  sessions: DovecotSessions;
  log: Logger;
}

/** The key of an existing URL file, to keep Dovecot's configuration valid across restarts. */
function existingKey(file: string): string | undefined {
  try {
    return new RegExp(`${DOVECOT_EVENTS_PATH}([A-Za-z0-9_-]{32,})$`).exec(fs.readFileSync(file, 'utf8').trim())?.[1];
  } catch {
    return undefined;
  }
}

export class DovecotEventsService implements Service {
  readonly name = 'dovecot-events';
  private server: http.Server | undefined;
  private key = Buffer.alloc(0);
  /** Events received and traced, refused (bad key, not JSON…), and not operations (ignored). */
  readonly counts = { traced: 0, refused: 0, ignored: 0 };

  constructor(private readonly o: DovecotEventsOptions) {}

  get url(): string {
    const a = this.server?.address();
    const port = a && typeof a === 'object' ? a.port : this.o.listen.port;
    return `http://${this.o.listen.host}:${port}${DOVECOT_EVENTS_PATH}${this.key.toString()}`;
  }

  async start(): Promise<void> {
    this.key = Buffer.from(existingKey(this.o.urlFile) ?? randomBytes(24).toString('base64url'));
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.o.listen.port, this.o.listen.host, () => resolve());
    });
    // No line end: Dovecot 2.3's stats process stops on a URL it cannot parse.
    fs.mkdirSync(path.dirname(this.o.urlFile), { recursive: true });
    atomicWriteFileSync(this.o.urlFile, this.url, { mode: 0o640 });
    this.o.log.info(
      { host: this.o.listen.host, port: (this.server.address() as { port: number }).port, urlFile: this.o.urlFile },
      'Dovecot events endpoint listening (content-operation traces)',
    );
  }

  private refuse(res: http.ServerResponse, status: number, why: string): void {
    this.counts.refused++;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${why}\n`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '';
    const given = Buffer.from(url.startsWith(DOVECOT_EVENTS_PATH) ? url.slice(DOVECOT_EVENTS_PATH.length) : '');
    if (req.method !== 'POST' || given.length !== this.key.length || !timingSafeEqual(given, this.key)) {
      req.resume();
      return this.refuse(res, 404, 'not found');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of req) {
        size += (c as Buffer).length;
        // Past the bound nothing is kept; past four times it the connection is cut.
        if (size > 4 * this.o.maxEventBytes) return void req.socket.destroy();
        if (size <= this.o.maxEventBytes) chunks.push(c as Buffer);
      }
    } catch {
      return;
    }
    if (size > this.o.maxEventBytes) return this.refuse(res, 413, `an event is at most ${this.o.maxEventBytes} bytes`);
    let event;
    try {
      event = dovecotEventSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      this.o.log.warn({ bytes: size }, 'Dovecot event refused: not the JSON of an exported event');
      return this.refuse(res, 400, 'not a Dovecot event');
    }
    try {
      const who = await this.o.sessions.lookup(typeof event.fields.session === 'string' ? event.fields.session : undefined);
      const trace = traceOfDovecotEvent(event, who);
      if (trace) {
        this.o.traces.write(trace);
        this.counts.traced++;
      } else this.counts.ignored++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } catch (err) {
      this.o.log.error({ err, event: event.event }, 'could not trace a Dovecot event (EX_GDT_5030 trace missing)');
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const dovecotEventsFactory: ServiceFactory = {
  name: 'dovecot-events',
  create(config: Config, log: Logger, shared) {
    const c = config.traces.dovecotEvents;
    if (!c.enabled) return undefined;
    return new DovecotEventsService({
      listen: c.listen,
      urlFile: c.urlFile ?? path.join(config.state.dir, 'dovecot-events.url'),
      maxEventBytes: c.maxEventBytes,
      traces: shared.traces(),
      sessions: new DovecotSessions(shared.store()),
      log: log.child({ part: 'dovecot-events' }),
    });
  },
};
