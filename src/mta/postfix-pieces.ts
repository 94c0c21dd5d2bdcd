// The shipped submission pieces (read by shipped-config.ts) turned into what a test, the
// benchmark or the sandbox needs to run Postfix with them on its own ports: the main.cf
// parameters with the milter moved, and a loopback listener with the submission options.
import { postfixMainPieces, postfixServiceEntry, postfixServiceOptions } from './shipped-config.js';

/** Every `name = value` of postfix/main.cf.d/*.cf. */
export function mainPieces(): Record<string, string> {
  return postfixMainPieces();
}

/** The `-o name=value` options postfix/master.cf.d/*.cf sets on a service (`submission/inet`). */
export function serviceOptions(service = 'submission/inet'): string[] {
  return postfixServiceOptions(service);
}

/** main.cf pieces with the milter endpoint moved to `milter` (`inet:127.0.0.1:PORT`). */
export function mainPiecesForMilter(milter: string): Record<string, string> {
  const main = mainPieces();
  const endpoint = main.mss_submission_milter;
  if (!endpoint || !/inet:127\.0\.0\.1:\d+/.test(endpoint)) throw new Error('postfix/main.cf.d: mss_submission_milter not found');
  return { ...main, mss_submission_milter: endpoint.replace(/inet:127\.0\.0\.1:\d+/, milter) };
}

/**
 * A loopback listener configured like the shipped submission service, plus `extra` options
 * (SASL for the tests). `only` keeps the shipped options whose name matches (the benchmark
 * keeps the milter's and leaves TLS out on both of its listeners).
 */
export function submissionListener(port: number, extra: readonly string[] = [], only?: RegExp): string {
  const shipped = serviceOptions().filter((o) => !only || only.test(o.slice(3, o.indexOf('='))));
  return [`127.0.0.1:${port} inet n - n - - smtpd`, ...shipped, ...extra].join('\n  ');
}

/** A shipped master.cf service with the options the pieces set on it. */
export interface ServicePiece {
  /** "127.0.0.1:10025/inet", "mss-gate-out/unix". */
  key: string;
  entry: string;
  options: string[];
}

export function servicePiece(key: string): ServicePiece | undefined {
  const entry = postfixServiceEntry(key);
  return entry ? { key, entry, options: serviceOptions(key) } : undefined;
}

/** A service entry with its options, renamed (a listener moved to a test port). */
export function serviceLine(piece: ServicePiece, rename?: string): string {
  const entry = rename ? piece.entry.replace(/^\S+/, rename) : piece.entry;
  return [entry, ...piece.options].join('\n  ');
}
