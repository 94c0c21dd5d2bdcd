// Technical log: pino JSON lines on stderr (journald collects them; stdout stays free for
// command results such as `whitelist verify --json`), readable when stderr is a terminal. Functional traces (EX_GDT_*) are a separate, append-only store.
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';

// The prettifier (pino-pretty and its dependencies, ~3.5 MB of the process) is loaded only
// when a terminal wants it: the services and the timer jobs log JSON (issue 20: the peak
// memory of `stats build`).
const requirePretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

export type { Logger } from 'pino';

// Never let secrets reach a log line, whatever a caller passes in.
const REDACT = [
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'password',
  '*.password',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LogOptions {
  level?: LevelWithSilent;
  /** Force pretty (true) or JSON (false); default: pretty only when stderr is a TTY. */
  pretty?: boolean;
  name?: string;
  /** Where JSON lines go instead of stderr (tests read them). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.MSS_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const base = {
    level,
    name: opts.name ?? 'mss-sidecar',
    // pid only: journald records the host, and a "hostname" field of our own (the gate's
    // announced name) would otherwise appear twice in one line.
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const wantPretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.MSS_LOG_JSON !== '1');
  if (wantPretty) {
    // Synchronous in-process prettifier: no worker thread, nothing lost on exit.
    return pino(base, requirePretty()({ destination: 2, colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, opts.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything, for library code called without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
