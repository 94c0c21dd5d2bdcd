// A logger whose lines a test can read (to check what is, and is not, logged).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';

export function captureLogger(level: 'debug' | 'info' = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level }, stream), lines };
}

/** The keys of a JSON line's top-level object, in order, duplicates kept (JSON.parse drops them). */
export function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/** The lines among `lines` that carry a key twice at the top level, with that key. */
export function duplicateKeyLines(lines: readonly string[]): Array<{ key: string; line: string }> {
  return lines.flatMap((line) => {
    const keys = topLevelKeys(line);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    return dup === undefined ? [] : [{ key: dup, line }];
  });
}
