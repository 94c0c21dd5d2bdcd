// The `milter` section: where the milter listens and how long it waits. The submission
// rules that run inside it have their own section; this one is only about the protocol.
import path from 'node:path';
import { z } from 'zod';

export type ListenSpec = { kind: 'inet'; host: string; port: number } | { kind: 'unix'; path: string };

/** Postfix's own notation, so the same string goes into smtpd_milters: `inet:127.0.0.1:10028`, `unix:/path`. */
export function parseListen(value: string): ListenSpec | undefined {
  const inet = /^inet:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  if (inet) {
    const port = Number(inet[3]);
    if (port < 1 || port > 65535) return undefined;
    return { kind: 'inet', host: inet[1] ?? inet[2] ?? '', port };
  }
  const unix = /^unix:(.+)$/.exec(value);
  if (unix && path.isAbsolute(unix[1] ?? '')) return { kind: 'unix', path: path.normalize(unix[1] ?? '') };
  return undefined;
}

export function formatListen(spec: ListenSpec): string {
  return spec.kind === 'unix' ? `unix:${spec.path}` : `inet:${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
}

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
  maxPacketBytes: z.number().int().min(65_536).max(16 * 1024 * 1024).default(1024 * 1024),
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
