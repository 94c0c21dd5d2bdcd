// How much of Dovecot's events spool `serve` has not traced yet (dovecot-events-spool-files.ts
// for the layout), for `status` and /health: events wait there, never lost, while `serve` is
// stopped or cannot write traces (EX_GDT_5030) — but a spool that keeps waiting is a hole in
// the traces until `serve` runs again, and must not stay silent.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { dovecotEventsUrlFile } from './config.js';
import { POSITION_FILE, listSegments, spoolDirOf } from './dovecot-events-spool-files.js';

export interface SpoolBacklog {
  /** Bytes spooled after the reader's committed position. */
  unreadBytes: number;
  /** When the reader last committed a position (ms), or undefined if it never did. */
  committedAt: number | undefined;
  /** The committed position, as the reader wrote it (compared between two readings). */
  position: string | undefined;
}

/** The spool of `config`'s Dovecot events (beside the URL file, in the state directory). */
export function dovecotEventsSpoolDir(config: Config): string {
  return spoolDirOf(dovecotEventsUrlFile(config.traces, config.state.dir));
}

/** Reads the spool's sizes and position; throws what the file system says (unreadable spool). */
export function spoolBacklog(dir: string): SpoolBacklog {
  let position: { segment?: unknown; offset?: unknown } | undefined;
  let committedAt: number | undefined;
  let text: string | undefined;
  try {
    text = fs.readFileSync(path.join(dir, POSITION_FILE), 'utf8');
    committedAt = fs.statSync(path.join(dir, POSITION_FILE)).mtimeMs;
    position = JSON.parse(text) as typeof position;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  const at = typeof position?.segment === 'string' ? position.segment : '';
  const offset = typeof position?.offset === 'number' ? position.offset : 0;
  let unreadBytes = 0;
  for (const s of listSegments(dir)) {
    if (s < at) continue; // read, waiting to be deleted
    let size: number;
    try {
      size = fs.statSync(path.join(dir, s)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile by the reader
      throw err;
    }
    unreadBytes += s === at ? Math.max(0, size - offset) : size;
  }
  return { unreadBytes, committedAt, position: text };
}
