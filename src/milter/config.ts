// The `milter` section: where the milter listens and how long it waits. The submission
// rules that run inside it have their own section; this one is only about the protocol.
import { z } from 'zod';
import { parseListen } from '../config/listen-spec.js';

export { formatListen, parseListen, type ListenSpec } from '../config/listen-spec.js';

export const DEFAULT_MILTER_LISTEN = 'inet:127.0.0.1:10028';

const listen = z.string().transform((value, ctx) => {
  const spec = parseListen(value);
  if (!spec) {
    ctx.addIssue({ code: 'custom', message: 'inet:HOST:PORT (e.g. inet:127.0.0.1:10028) or unix:/absolute/path', input: value });
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
