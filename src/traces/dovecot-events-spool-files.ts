// The spool of Dovecot's events, shared by its writer (dovecot-events-spool.ts, a service of
// Dovecot's master) and its reader (`serve`, dovecot-events-spool-reader.ts). Why a spool:
// Dovecot 2.3.19's stats process posts each event once (http-post) and drops it when nobody
// answers, and it has no file transport (2.3.21 added `file`/`unix`); the spool's writer runs
// under Dovecot's master, which holds the port as long as Dovecot runs, so an event survives
// `serve` being stopped, restarting or crashing (EX_GDT_5030, EX_GDT_5040).
//
// Layout: <dir>/<12-digit sequence>.jsonl segments, one exported event (Dovecot's JSON, no line
// end inside) per line. Only the writer appends, only to the newest segment; a segment is final
// once a newer one exists. The reader deletes final segments it has read, never the newest, so
// the sequence only grows. <dir>/position.json is the reader's: how far it has traced.
// Directory 0700 and files 0600, owned by the service user: no other local user reads the
// events (user, folder, client address) or writes one.
import fs from 'node:fs';
import path from 'node:path';

export const DOVECOT_EVENTS_PATH = '/v1/dovecot-events/';
/** Dovecot's exported events are a few hundred bytes to a few KiB; larger ones are refused. */
export const DEFAULT_MAX_EVENT_BYTES = 65_536;
/** A segment the writer stops appending to (the reader deletes it once read). */
export const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
export const POSITION_FILE = 'position.json';

const SEGMENT = /^(\d{12})\.jsonl$/;

/** The spool beside the URL file: both are in the state directory, readable by the service user only. */
export function spoolDirOf(urlFile: string): string {
  return path.join(path.dirname(urlFile), 'dovecot-events.spool');
}

/** The key in a URL file's text (`http://host:port/v1/dovecot-events/<key>`), if it has one. */
export function keyOfUrl(text: string): string | undefined {
  return new RegExp(`${DOVECOT_EVENTS_PATH}([A-Za-z0-9_-]{32,})$`).exec(text.trim())?.[1];
}

export function readKey(urlFile: string): string | undefined {
  try {
    return keyOfUrl(fs.readFileSync(urlFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The segments, oldest first (names sort as their sequence numbers). */
export function listSegments(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => SEGMENT.test(f))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export function segmentName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.jsonl`;
}

export function segmentSeq(name: string): number {
  return Number(SEGMENT.exec(name)?.[1] ?? 0);
}

/** The spool directory, 0700 (created if missing; an existing one is brought back to 0700). */
export function ensureSpoolDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}
