// The spool's writer: a service of Dovecot's master (dovecot/conf.d/91-mss-mail-log.conf,
// `service mss-dovecot-events`), not of `serve`. Dovecot's master binds the inet_listener
// (127.0.0.1:426) itself and keeps it bound for as long as Dovecot runs; it starts this
// program on the first connection and hands it the listening socket (fd 7, Dovecot 2.3's
// MASTER_LISTEN_FD_FIRST). Dovecot's stats process posts each exported event here (http-post);
// the event is appended to the spool and answered 200 only once written, so it survives `serve`
// being stopped or crashing: `serve` traces it from the spool when it runs (EX_GDT_5030,
// EX_GDT_5040 — checked on Debian 12's Dovecot 2.3.19.1, which drops an event nobody answers).
//
// Run as: node dovecot-events-spool.js <url file> [max event bytes]. Dovecot starts it as root
// with RESTRICT_SETUID/RESTRICT_SETGID (the service's `user`), which Dovecot's own programs
// apply themselves: so does this one before reading anything. Only a request carrying the key
// of the URL file `serve` writes is spooled (another local process cannot write traces);
// bounded bodies; one JSON object per line. Refusals go to stderr, i.e. Dovecot's log.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_MAX_EVENT_BYTES,
  DOVECOT_EVENTS_PATH,
  MAX_SEGMENT_BYTES,
  ensureSpoolDir,
  listSegments,
  readKey,
  segmentName,
  segmentSeq,
  spoolDirOf,
} from './dovecot-events-spool-files.js';

/** Dovecot 2.3's first listening descriptor handed to a service (lib-master/master-interface.h). */
export const DOVECOT_LISTEN_FD = 7;
/** Dovecot 2.3's status pipe to the master (MASTER_STATUS_FD): its read end closes on a reload or when the master dies. */
const MASTER_STATUS_FD = 5;

export interface SpoolWriterOptions {
  urlFile: string;
  maxEventBytes?: number;
  maxSegmentBytes?: number;
  /** Where refusals are reported (default: stderr, which Dovecot's log process records). */
  report?: (line: string) => void;
}

export class DovecotEventsSpoolWriter {
  readonly dir: string;
  private readonly maxEventBytes: number;
  private readonly maxSegmentBytes: number;
  private readonly report: (line: string) => void;
  private key: Buffer;
  private keyReadAt = 0;
  private fd: number | undefined;
  private size = 0;
  private seq = 0;
  private server: http.Server | undefined;
  private lastReport = 0;
  private suppressed = 0;
  private draining = false;
  readonly counts = { spooled: 0, refused: 0 };

  constructor(private readonly o: SpoolWriterOptions) {
    this.dir = spoolDirOf(o.urlFile);
    this.maxEventBytes = o.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.maxSegmentBytes = o.maxSegmentBytes ?? MAX_SEGMENT_BYTES;
    this.report = o.report ?? ((line) => process.stderr.write(`${line}\n`));
    this.key = Buffer.from(readKey(o.urlFile) ?? '');
  }

  /** Appends to the newest segment (a new one past the size bound), terminating a line a crash left unfinished. */
  private open(): void {
    ensureSpoolDir(this.dir);
    const newest = listSegments(this.dir).at(-1);
    this.seq = newest ? segmentSeq(newest) : 1;
    this.fd = fs.openSync(path.join(this.dir, segmentName(this.seq)), 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
    if (this.size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(path.join(this.dir, segmentName(this.seq)), 'r');
      try {
        fs.readSync(rfd, last, 0, 1, this.size - 1);
      } finally {
        fs.closeSync(rfd);
      }
      // The reader refuses the unfinished line as garbage; the next event starts on its own.
      if (last[0] !== 0x0a) this.size += fs.writeSync(this.fd, '\n');
    }
    if (this.size >= this.maxSegmentBytes) this.roll();
  }

  private roll(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.seq++;
    this.fd = fs.openSync(path.join(this.dir, segmentName(this.seq)), 'a', 0o600);
    this.size = 0;
  }

  /** One event, one line, written before the answer: a 200 means the event is on disk (page cache). */
  append(body: Buffer): void {
    // After a reload two writers may overlap for a moment (the old one finishing a request): one
    // that finds a newer segment than its own moves to it, so that a final segment stays final.
    if (this.fd !== undefined && fs.existsSync(path.join(this.dir, segmentName(this.seq + 1)))) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.fd === undefined) this.open();
    const line = Buffer.concat([body, Buffer.from('\n')]);
    this.size += fs.writeSync(this.fd as number, line);
    this.counts.spooled++;
    if (this.size >= this.maxSegmentBytes) this.roll();
  }

  /** At most one line a second in Dovecot's log, whatever a local process sends. */
  private refused(why: string): void {
    this.counts.refused++;
    const now = Date.now();
    if (now - this.lastReport < 1000) {
      this.suppressed++;
      return;
    }
    this.report(`${why}${this.suppressed > 0 ? ` (${this.suppressed} more refusals suppressed)` : ''}`);
    this.lastReport = now;
    this.suppressed = 0;
  }

  private keyMatches(given: Buffer): boolean {
    const ok = (): boolean => this.key.length > 0 && given.length === this.key.length && timingSafeEqual(given, this.key);
    if (ok()) return true;
    // `serve` may have written a new URL file since (at most one read a second).
    if (Date.now() - this.keyReadAt > 1000) {
      this.keyReadAt = Date.now();
      this.key = Buffer.from(readKey(this.o.urlFile) ?? '');
    }
    return ok();
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '';
    const given = Buffer.from(url.startsWith(DOVECOT_EVENTS_PATH) ? url.slice(DOVECOT_EVENTS_PATH.length) : '');
    // EX_GDT_5030: only Dovecot, which read the key from the URL file, writes traces.
    if (req.method !== 'POST' || !this.keyMatches(given)) {
      req.resume();
      this.refused("DOVECOT_EVENT_REFUSED: a request without the URL file's key (not spooled)");
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of req) {
        size += (c as Buffer).length;
        // Past the bound nothing is kept; past four times it the connection is cut.
        if (size > 4 * this.maxEventBytes) return void req.socket.destroy();
        if (size <= this.maxEventBytes) chunks.push(c as Buffer);
      }
    } catch {
      return;
    }
    if (size > this.maxEventBytes) {
      this.refused(`DOVECOT_EVENT_TOO_LARGE: an event of ${size} bytes refused (at most ${this.maxEventBytes})`);
      return void res.writeHead(413, { 'content-type': 'text/plain' }).end(`an event is at most ${this.maxEventBytes} bytes\n`);
    }
    const body = Buffer.concat(chunks);
    if (!isOneJsonObject(body)) {
      this.refused('DOVECOT_EVENT_INVALID: a body that is not one JSON object on one line refused');
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end('not a Dovecot event\n');
    }
    try {
      this.append(body);
    } catch (err) {
      // Disk full, spool removed…: Dovecot logs « Failed to export event » for this one.
      this.report(`DOVECOT_SPOOL_WRITE: ${(err as Error).message} (event not spooled, EX_GDT_5030 trace missing)`);
      this.fd = undefined;
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end('not spooled\n');
    }
    // Leaving (a reload of Dovecot): this answer is the connection's last; the next event goes to the new writer.
    res.writeHead(200, { 'content-type': 'text/plain', ...(this.draining ? { connection: 'close' } : {}) }).end('ok\n');
  }

  /** Listens on Dovecot's descriptor, or on a port (tests without Dovecot). */
  async listen(on: { fd: number } | { host: string; port: number }): Promise<number | undefined> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Idle connections are closed by Dovecot's HTTP client, never under it while it sends.
    this.server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      if ('fd' in on) this.server?.listen({ fd: on.fd }, () => resolve());
      else this.server?.listen(on.port, on.host, () => resolve());
    });
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** As Dovecot's own processes on a reload: no new connection, the current ones end after their request; resolves when none is left. */
  async drain(): Promise<void> {
    this.draining = true;
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Dovecot's json format: one object, no raw line end (JSON escapes them inside strings). */
function isOneJsonObject(body: Buffer): boolean {
  if (body.includes(0x0a) || body.includes(0x0d)) return false;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Dovecot 2.3's lib-master protocol, the part a service needs: every second, a master_status
 * (pid, GENERATION, available connections: one in use, so that the master neither thinks this
 * process idle and signals it, nor starts a second writer) on the status pipe. The pipe fails
 * (EPIPE) once the master closed it — a reload, which starts a new writer, or the master gone —
 * and this writer then leaves as Dovecot's own processes do: without it an old writer would
 * keep the port after Dovecot stops, or append beside the new one after a reload.
 */
function reportToMaster(onGone: () => void): void {
  const generation = Number(process.env.GENERATION);
  const limit = Number(process.env.CLIENT_LIMIT);
  if (!Number.isInteger(generation) || !Number.isInteger(limit)) return;
  const status = Buffer.alloc(12);
  const le = os.endianness() === 'LE';
  (le ? status.writeInt32LE : status.writeInt32BE).call(status, process.pid, 0);
  (le ? status.writeUInt32LE : status.writeUInt32BE).call(status, generation, 4);
  (le ? status.writeUInt32LE : status.writeUInt32BE).call(status, Math.max(0, limit - 1), 8);
  const beat = (): void => {
    try {
      fs.writeSync(MASTER_STATUS_FD, status);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return; // the master is busy: next time
      clearInterval(timer);
      onGone();
    }
  };
  const timer = setInterval(beat, 1000);
  beat();
}

/** Dovecot's RESTRICT_SETUID/RESTRICT_SETGID: the service's `user`, applied by the program itself. */
function dropPrivileges(): void {
  const uid = Number(process.env.RESTRICT_SETUID ?? '');
  const gid = Number(process.env.RESTRICT_SETGID ?? '');
  if (process.getuid?.() !== 0 || !Number.isInteger(uid) || process.env.RESTRICT_SETUID === undefined) return;
  process.setgroups?.([]);
  if (Number.isInteger(gid) && process.env.RESTRICT_SETGID !== undefined) process.setgid?.(gid);
  process.setuid?.(uid);
}

/**
 * EX_GDT_5010/5030: the spool must be `serve`'s to read and delete, and no more than that. The
 * directory of the URL file (serve's state directory, 0700) belongs to serve's user: a writer
 * running as anyone else — root, when the service's `user =` is missing or changed — would
 * leave events serve cannot read, as root. So it does not start; the reason, naming both
 * users and the setting, goes to Dovecot's log.
 */
export function notServesUser(stateDir: string, uid = process.getuid?.()): string | undefined {
  let owner: number;
  try {
    owner = fs.statSync(stateDir).uid;
  } catch (err) {
    return `DOVECOT_SPOOL_USER: cannot read the owner of ${stateDir} (serve's state directory, where the URL file and the spool live): ${(err as Error).message}`;
  }
  if (uid === undefined || uid === owner) return undefined;
  return (
    `DOVECOT_SPOOL_USER: the spool writer runs as uid ${uid}, but ${stateDir} belongs to uid ${owner} (serve's user): ` +
    'set `user =` of `service mss-dovecot-events` (91-mss-mail-log.conf) to the user serve runs as; nothing is spooled until then'
  );
}

async function main(argv: string[]): Promise<void> {
  const [urlFile, max] = argv;
  if (!urlFile) {
    process.stderr.write('usage: dovecot-events-spool.js <url file> [max event bytes]\n');
    process.exit(64);
  }
  dropPrivileges();
  const wrongUser = notServesUser(path.dirname(urlFile));
  if (wrongUser) {
    process.stderr.write(`${wrongUser}\n`);
    process.exit(78); // EX_CONFIG: Dovecot logs it and throttles the restarts
  }
  process.umask(0o077);
  const writer = new DovecotEventsSpoolWriter({ urlFile, ...(max ? { maxEventBytes: Number(max) } : {}) });
  if (readKey(urlFile) === undefined)
    process.stderr.write(`DOVECOT_SPOOL_NO_KEY: ${urlFile} has no key yet (start mss-sidecar serve once); every event is refused until it has one\n`);
  // Dovecot's master signals SIGINT to a process it thinks idle; this one keeps serving (the
  // stats process keeps its connection), and stops on SIGTERM, Dovecot's shutdown.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void writer.close().then(() => process.exit(0)));
  await writer.listen({ fd: DOVECOT_LISTEN_FD });
  reportToMaster(() => {
    // The connections of the old stats process end with their next event, or it closes them.
    setTimeout(() => process.exit(0), 60_000).unref();
    void writer.drain().then(() => writer.close().then(() => process.exit(0)));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`DOVECOT_SPOOL_START: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
