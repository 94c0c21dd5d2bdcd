// The `gates` section: the inbound gate (TM3.1P, the MSSanté MX port) and the outbound gate
// (TM3.2P, the LMTP endpoint Postfix hands mail for other MSSanté domains to). Both are off
// by default; `mss-sidecar serve` runs the enabled ones. Keep the sockets in step with
// postfix/main.cf.d/10-gates.cf and postfix/master.cf.d/10-gates.cf.
//
// The two loopback doors between the gates and Postfix are unix sockets, whose permissions
// let only Postfix (resp. the gate) in: any local process could use a TCP port on 127.0.0.1,
// deliver to other operators through the outbound gate, or inject mail behind the inbound
// gate's checks with a forged XCLIENT. A host and port may still be given (tests, a sandbox
// without Postfix); the production defaults are the sockets.
import { z } from 'zod';
import { filePath, port, positiveInt } from '../config/atoms.js';
import type { ListenSpec } from '../config/listen-spec.js';

/** 10 Mo, attachments encoded (EX_GBM_4410): the least any gate may accept. */
export const MIN_MESSAGE_BYTES = 10 * 1024 * 1024;
/**
 * Headroom above the submission milter's limit (10 MiB) for the headers added in transit
 * (the sending operator's Postfix Received/Message-ID lines, its outbound gate): a message of
 * exactly 10 MiB accepted at A's submission must not be bounced by B's gate (EX_GBM_4410).
 */
export const TRANSIT_HEADROOM_BYTES = 32 * 1024;
/**
 * Default inbound limit (EX_GBM_4410): 10 MiB + 32 KiB = 10518528. Postfix's global
 * message_size_limit (postfix/main.cf.d/20-submission-limits.cf, 10 MiB + 64 KiB = 10551296)
 * stays 32 KiB above it, room for the Received line the gate adds and Postfix's own.
 */
export const DEFAULT_MESSAGE_BYTES = MIN_MESSAGE_BYTES + TRANSIT_HEADROOM_BYTES;
/** Default outbound limit: above Postfix's message_size_limit, so Postfix's own limit decides. */
export const DEFAULT_OUT_MESSAGE_BYTES = 12 * 1024 * 1024;

const host = (fallback: string) => z.string().min(1).default(fallback);

/** The outbound gate's LMTP socket, which Postfix's mss-gate-out transport connects to (default_transport). */
export const DEFAULT_GATE_OUT_SOCKET = '/run/mss-sidecar/gate-out.sock';
/**
 * The inbound gate's way into Postfix: the `mss-gate-in` smtpd of postfix/master.cf.d/10-gates.cf,
 * a unix service in Postfix's public/ directory (mode 0710, group postdrop: Postfix, root and
 * the members of postdrop — the sidecar's service user — can reach it).
 */
export const DEFAULT_GATE_IN_POSTFIX_SOCKET = '/var/spool/postfix/public/mss-gate-in';

/** `host`+`port` (TCP) or `path` (a unix socket, the default), never both: the result in `endpoint`. */
function oneEndpoint<T extends { host?: string | undefined; port?: number | undefined; path?: string | undefined }>(defaultPath: string) {
  return (v: T, ctx: z.RefinementCtx): T & { endpoint: ListenSpec } => {
    if (v.path !== undefined && (v.port !== undefined || v.host !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either path (a unix socket) or host and port, not both', input: v });
      return z.NEVER;
    }
    if (v.port !== undefined) return { ...v, endpoint: { kind: 'inet', host: v.host ?? '127.0.0.1', port: v.port } };
    if (v.host !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'host needs a port (or give path, a unix socket)', input: v });
      return z.NEVER;
    }
    return { ...v, endpoint: { kind: 'unix', path: v.path ?? defaultPath } };
  };
}

const octalMode = z
  .string()
  .regex(/^0?[0-7]{3}$/, 'an octal mode such as "0660"')
  .transform((m) => parseInt(m, 8));
const ms = (fallback: number) => positiveInt.default(fallback);
// EX_GBM_4410: a limit below 10 Mo is a configuration error, not a choice.
const messageBytes = (fallback: number) =>
  z.number().int().min(MIN_MESSAGE_BYTES, `at least ${MIN_MESSAGE_BYTES} bytes (10 Mo, EX_GBM_4410)`).default(fallback);

export const gateInSection = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The MSSanté MX port other operators' connectors deliver to. */
    listen: z.strictObject({ host: host('0.0.0.0'), port: port.default(25) }).prefault({}),
    /** Name in the greeting and the Received header; default: the CN of operator.certificate. */
    hostname: z.string().min(1).optional(),
    /** Announced with SIZE and enforced while streaming (EX_GBM_4410: at least 10 Mo). */
    maxMessageBytes: messageBytes(DEFAULT_MESSAGE_BYTES),
    /** Simultaneous sessions; beyond, new ones get 421. No per-sender rate limit (EX_3.1_5015). */
    maxConnections: positiveInt.default(1000),
    /**
     * Limits before a peer's certificate passed (docs/gates.md, "Limits"): sessions not yet
     * verified per source address; the slots of maxConnections only verified sessions may
     * take; the time a new session has to present a verified certificate. A listed peer,
     * once verified, has no limit of its own (EX_3.1_5010, EX_3.1_5015).
     */
    maxUnverifiedPerSource: positiveInt.default(50),
    verifiedReserve: z.number().int().min(0).default(100),
    verifyWithinSeconds: positiveInt.max(300).default(30),
    /** Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100); keep Postfix's smtpd_recipient_limit on its gate listener above it. */
    maxRecipients: positiveInt.min(100).default(1000),
    /** A session silent for this long is closed. */
    idleTimeoutMs: ms(300_000),
    /**
     * How long a message's digest is remembered (src/gate/inbound/dedupe.ts): a copy retried
     * within it, after its 250 was lost, is answered 250 and not delivered again. 0: off.
     */
    duplicateWindowHours: z.number().int().min(0).max(168).default(24),
    /**
     * How long a message's final dot waits for a state store that does not answer (a Sentinel
     * failover) before the message goes to Postfix without the duplicate check. Below the
     * gate listener's smtpd_timeout (300 s, postfix/master.cf.d/10-gates.cf), which the held
     * Postfix session must outlive; docs/gates.md, "Retries and duplicates".
     */
    duplicateCheckWaitMs: z.number().int().min(0).max(120_000).default(30_000),
    /** The smtpd of postfix/master.cf.d/10-gates.cf (XCLIENT allowed from the gate only): its unix socket, or host and port. */
    postfix: z
      .strictObject({
        path: filePath.optional(),
        host: z.string().min(1).optional(),
        port: port.optional(),
        connectTimeoutMs: ms(10_000),
        /** Each command's reply, RFC 5321 §4.5.3.2 order of magnitude. */
        commandTimeoutMs: ms(300_000),
        /** The reply to the final dot: RFC 5321 asks clients to wait 10 minutes. */
        dataDoneTimeoutMs: ms(600_000),
        /** A Postfix session left idle after a message is closed after this long (the next message opens another). */
        keepIdleMs: z.number().int().min(0).max(60_000).default(5000),
      })
      .transform(oneEndpoint(DEFAULT_GATE_IN_POSTFIX_SOCKET))
      .prefault({}),
  })
  .refine((g) => g.verifiedReserve < g.maxConnections, { message: 'must be less than maxConnections', path: ['verifiedReserve'] });

export const gateOutSection = z.strictObject({
  enabled: z.boolean().default(false),
  /**
   * LMTP endpoint for Postfix's mss-gate-out transport: a unix socket (`path`, with the `mode`
   * and `group` that let Postfix's lmtp client in, user postfix, and no other local user), or
   * `host`+`port` on loopback (tests, a sandbox without Postfix).
   */
  listen: z
    .strictObject({
      path: filePath.optional(),
      /** Who may connect: the socket's group and mode (Postfix's daemons run as postfix:postfix). */
      group: z.string().min(1).default('postfix'),
      mode: octalMode.default(0o660),
      host: z.string().min(1).optional(),
      port: port.optional(),
    })
    .transform(oneEndpoint(DEFAULT_GATE_OUT_SOCKET))
    .prefault({}),
  /**
   * The Postfix configuration whose routes to other MSSanté domains `postfix check-routes`,
   * `status` and `whitelist sync` check (default: Postfix's own, usually /etc/postfix).
   */
  postfixConfigDir: filePath.optional(),
  /** SMTP port of the receiving connectors (25; tests and the sandbox use another). */
  remotePort: port.default(25),
  /** EHLO name; default: the CN of operator.certificate. */
  heloName: z.string().min(1).optional(),
  maxMessageBytes: messageBytes(DEFAULT_OUT_MESSAGE_BYTES),
  maxConnections: positiveInt.default(200),
  dns: z
    .strictObject({
      /** Resolvers ("127.0.0.1", "127.0.0.1:5353"); empty: the system's. */
      servers: z.array(z.string().min(1)).default([]),
      timeoutMs: ms(10_000),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      connectMs: ms(30_000),
      /** Greeting and each command's reply (RFC 5321 §4.5.3.2: 5 minutes). */
      commandMs: ms(300_000),
      /** Reply to the final dot (RFC 5321: 10 minutes). Keep below lmtp_data_done_timeout. */
      dataDoneMs: ms(600_000),
      /** Every MX of a domain tried, TLS and checks included; keep below lmtp_data_xfer_timeout. */
      setupMs: ms(180_000),
    })
    .prefault({}),
  /** Verified sessions kept open between messages to the same MX (like Postfix's connection cache). */
  connectionCache: z
    .strictObject({
      idleMs: z.number().int().min(0).default(5_000),
      maxIdle: z.number().int().min(0).default(20),
      /** Messages per session before it is closed. */
      maxReuse: positiveInt.default(100),
    })
    .prefault({}),
});

export const gatesSection = z.strictObject({
  in: gateInSection.prefault({}),
  out: gateOutSection.prefault({}),
});

export type GatesConfig = z.output<typeof gatesSection>;
export type GateInConfig = z.output<typeof gateInSection>;
export type GateOutConfig = z.output<typeof gateOutSection>;
