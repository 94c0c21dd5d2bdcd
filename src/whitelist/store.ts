// The local copy of the last valid liste blanche (EX_2.2_5035) under state.dir, kept as the
// exact bytes downloaded (EX_2.2_5030: used locally, never altered), replaced atomically and
// only after verification, with a small JSON record of when it was verified.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteFile } from '../util/atomic-write.js';

export const LIST_FILE_NAME = 'listeblanchemssante.xml';

export interface WhitelistPaths {
  dir: string;
  /** The exact bytes of the last valid list. */
  file: string;
  /** LastValidRecord of that file. */
  record: string;
}

export function whitelistPaths(stateDir: string): WhitelistPaths {
  return pathsForFile(path.join(stateDir, 'whitelist', LIST_FILE_NAME));
}

/** The record lives next to the list, same name with .json. */
export function pathsForFile(file: string): WhitelistPaths {
  const dir = path.dirname(file);
  return { dir, file, record: path.join(dir, `${path.basename(file).replace(/\.xml$/i, '')}.json`) };
}

export interface LastValidRecord {
  url: string;
  sha256: string;
  bytes: number;
  generated: string;
  domains: number;
  dns: number;
  signer: string;
  /** First time these bytes were downloaded and verified. */
  storedAt: string;
  /** Last time a download returned these bytes and they verified: the age of the list in use. */
  confirmedAt: string;
}

/** SHA-256 of the stored list, or undefined when there is none. */
export function storedSha256(paths: WhitelistPaths): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(paths.file)).digest('hex');
  } catch {
    return undefined;
  }
}

export function readRecord(paths: WhitelistPaths): LastValidRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.record, 'utf8')) as LastValidRecord;
  } catch {
    return undefined;
  }
}

/**
 * Store the new record, then the new bytes, each replaced atomically. A crash between the two
 * leaves the old list with the new record, which errs on the safe side: the replay check
 * (WL_ROLLBACK) compares with the newer DateDeGeneration, and the daemons' age check falls
 * back to the list file's own date because the record's sha256 no longer matches it.
 */
export async function storeLastValid(paths: WhitelistPaths, bytes: Uint8Array, record: LastValidRecord): Promise<void> {
  await writeRecord(paths, record);
  // The list is public data; readable by the operator's tools.
  await atomicWriteFile(paths.file, bytes, { mode: 0o644 });
}

export async function writeRecord(paths: WhitelistPaths, record: LastValidRecord): Promise<void> {
  await atomicWriteFile(paths.record, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
}

/**
 * Hours since the list in use was last confirmed by a verified download; falls back to
 * the file's modification time when the record is missing or describes other bytes.
 */
export function listAgeHours(paths: WhitelistPaths, sha256: string | undefined, now: Date): number | undefined {
  const record = readRecord(paths);
  let since: number | undefined;
  if (record && (sha256 === undefined || record.sha256 === sha256)) since = Date.parse(record.confirmedAt);
  if (since === undefined || Number.isNaN(since)) {
    try {
      since = fs.statSync(paths.file).mtimeMs;
    } catch {
      return undefined;
    }
  }
  return (now.getTime() - since) / 3_600_000;
}
