// The hash chain of trace and manifest files. Each line is a JSON object that carries the
// previous line's hash (`prev`) and a sequence number (`seq`), and ends with its own
// `hash` = SHA-256 of the line's text before that field. Editing a line breaks its hash;
// removing or reordering lines breaks `prev`/`seq` on the next one. The hash is computed
// over the exact text written, so verification needs no JSON canonicalisation.
import crypto, { createHash } from 'node:crypto';

export const GENESIS = '0'.repeat(64);
const TAIL = /,"hash":"([0-9a-f]{64})"\}$/;

export interface Chained {
  seq: number;
  prev: string;
}

/** SHA-256 in hex: the one-shot crypto.hash where Node has it (20.12+), else a Hash object. */
const sha256: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: 'hex'): string }).hash('sha256', text, 'hex')
    : (text) => createHash('sha256').update(text).digest('hex');

function finish(body: string): { line: string; hash: string } {
  const hash = sha256(body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

/** The line (with its newline) and its hash for `record`. */
export function chainLine(record: Chained & Record<string, unknown>): { line: string; hash: string } {
  return finish(JSON.stringify(record));
}

/**
 * The same line as chainLine({ seq, prev, ...record }), without copying `record` into a new
 * object (issue 20: a trace per message): `seq` and `prev` written first, then the
 * record's own JSON. A record that has its own `seq` or `prev` goes through the copy.
 */
export function chainRecord(seq: number, prev: string, record: Record<string, unknown>): { line: string; hash: string } {
  if ('seq' in record || 'prev' in record) return chainLine({ seq, prev, ...record });
  const json = JSON.stringify(record);
  const head = `{"seq":${JSON.stringify(seq)},"prev":${JSON.stringify(prev)}`;
  return finish(json === '{}' ? `${head}}` : `${head},${json.slice(1)}`);
}

export type LineCheck = { ok: true; record: Chained & Record<string, unknown>; hash: string } | { ok: false; reason: string };

/** Check one line's own hash (not its link to the previous line). */
export function checkLine(line: string): LineCheck {
  const m = TAIL.exec(line);
  if (!m || m[1] === undefined) return { ok: false, reason: 'no hash at the end of the line (edited or torn)' };
  const body = `${line.slice(0, m.index)}}`;
  const hash = createHash('sha256').update(body).digest('hex');
  if (hash !== m[1]) return { ok: false, reason: 'the line does not match its hash (edited)' };
  let record: Chained & Record<string, unknown>;
  try {
    record = JSON.parse(body) as Chained & Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof record.seq !== 'number' || typeof record.prev !== 'string') return { ok: false, reason: 'no seq/prev fields' };
  return { ok: true, record, hash };
}
