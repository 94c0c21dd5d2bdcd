// The `milter` section: where the milter listens and how long it waits. The submission
// rules that run inside it have their own section; this one is only about the protocol.
import { z } from 'zod';
import { parseListen } from '../config/listen-spec.js';

export { formatListen, parseListen, type ListenSpec } from '../config/listen-spec.js';

/**
 * A unix socket in a directory of Postfix's queue directory (mode 0750, group postfix: created
 * by the package or install step 1): while the milter is stopped, no other local user can put a
 * socket of its own there and accept every message for Postfix, as one could on a loopback TCP
 * port above 1024. Postfix names it relative to its queue directory, which is also the chroot of
 * Debian's smtpd and cleanup: `unix:mss-sidecar/milter.sock` (postfix/main.cf.d/20-submission-milter.cf).
 */
export const DEFAULT_MILTER_LISTEN = 'unix:/var/spool/postfix/mss-sidecar/milter.sock';
/** The same socket as Postfix's smtpd and cleanup name it (chrooted or not: relative to queue_directory). */
export const POSTFIX_MILTER_ENDPOINT = 'unix:mss-sidecar/milter.sock';

const listen = z.string().transform((value, ctx) => {
  const spec = parseListen(value);
  if (!spec) {
    ctx.addIssue({ code: 'custom', message: 'unix:/absolute/path (e.g. unix:/var/spool/postfix/mss-sidecar/milter.sock) or inet:HOST:PORT', input: value });
    return z.NEVER;
  }
  return spec;
});

export const milterSection = z.strictObject({
  /** Run the milter in `mss-sidecar serve`. */
  enabled: z.boolean().default(false),
  listen: listen.prefault(DEFAULT_MILTER_LISTEN),
  /** Permissions of a unix socket: Postfix's smtpd and cleanup (user postfix) must reach it. */
  socketMode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'an octal mode such as "0660"')
    .default('0660')
    .transform((m) => parseInt(m, 8)),
  /** Group of a unix socket: Postfix's daemons run as postfix:postfix; the service user must be a member (SupplementaryGroups=postfix). */
  socketGroup: z.string().min(1).default('postfix'),
  /** Largest packet accepted from the MTA; at least one body chunk, above header_size_limit. */
  maxPacketBytes: z
    .number()
    .int()
    .min(65_536)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  maxConnections: z.number().int().positive().default(1000),
  timeouts: z
    .strictObject({
      /** No command for this long on a connection that owes nothing: close it. */
      idleMs: z.number().int().positive().default(900_000),
      /** A packet begun and not finished within this time: a stuck or hostile peer. */
      packetMs: z.number().int().positive().default(30_000),
      /** A rule still undecided after this long: temporary failure (below milter_command_timeout). */
      handlerMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
});

export type MilterConfig = z.output<typeof milterSection>;
