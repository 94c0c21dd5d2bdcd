// A whole deposit checked the way SIPIL does (§9.7.4.3/§9.7.4.4): every file of the ZIP (or
// of a directory of built files) through the controls, and a global code in the terms of
// Tableau 61: 0 every file OK or Warning, 1 some KO, 2 all KO, 4 empty archive, 5 archive
// that cannot be opened.
import fs from 'node:fs';
import path from 'node:path';
import { asMssError } from '../errors.js';
import { FileValidator, type ControlContext, type FileCheck } from './controls.js';
import { readZip } from './zip.js';

export interface ArchiveCheck {
  source: string;
  /** Tableau 61 reading. */
  code: 0 | 1 | 2 | 4 | 5;
  message: string;
  files: FileCheck[];
  /** Blocking errors: refuse to upload unless forced. */
  blocking: boolean;
  warnings: boolean;
}

export const ARCHIVE_MESSAGES: Record<ArchiveCheck['code'], string> = {
  0: "Tous les fichiers de l'archive ont été traités OK ou en Warning",
  1: "Une partie des fichiers de l'archive sont OK ou en Warning, les autres KO",
  2: "Tous les fichiers de l'archive ont été traités KO",
  4: "L'archive n'a pas pu être traitée : Archive vide",
  5: "L'archive n'a pas pu être traitée : Archive ne pouvant être ouverte",
};

export function summarise(source: string, files: FileCheck[], unreadable?: string): ArchiveCheck {
  let code: ArchiveCheck['code'];
  if (unreadable !== undefined) code = 5;
  else if (files.length === 0) code = 4;
  else {
    const ko = files.filter((f) => f.codeRetour === 1).length;
    code = ko === 0 ? 0 : ko === files.length ? 2 : 1;
  }
  return {
    source,
    code,
    message: unreadable !== undefined ? `${ARCHIVE_MESSAGES[5]} (${unreadable})` : ARCHIVE_MESSAGES[code],
    files,
    blocking: code !== 0,
    warnings: files.some((f) => f.codeRetour === 2),
  };
}

/** A ZIP given as bytes or as a file path. */
export function checkArchive(source: Uint8Array | string, ctx: ControlContext, label = typeof source === 'string' ? source : 'archive'): ArchiveCheck {
  const validators: FileValidator[] = [];
  try {
    readZip(source, (name) => {
      if (name.endsWith('/')) return undefined; // a folder entry; its files fail control n°1
      const v = new FileValidator(name, ctx);
      validators.push(v);
      return v;
    });
  } catch (err) {
    return summarise(label, [], asMssError(err).message);
  }
  return summarise(
    label,
    validators.map((v) => v.result()),
  );
}

/** Every .csv file of a directory (what `stats build` wrote), read in chunks. */
export function checkDirectory(dir: string, ctx: ControlContext): ArchiveCheck {
  const names = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.csv') && !n.startsWith('.'))
    .sort();
  const files = names.map((name) => {
    const v = new FileValidator(name, ctx);
    const fd = fs.openSync(path.join(dir, name), 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        v.push(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
    return v.result();
  });
  return summarise(dir, files);
}
