// The `submission` section: the Référentiel's sending rules the milter enforces on the
// submission service (port 587) and on local submission (sendmail/pickup, a site's own
// smtpd). The `milter` section is about the protocol only.
import { z } from 'zod';
import { positiveInt } from '../config/atoms.js';

/**
 * EX_GBM_4410: "10 Mo" must pass. Read as 10 MiB (10,485,760 bytes), the larger reading, so
 * that a message of 10 MB by either count is accepted. Postfix's message_size_limit ships
 * above it (postfix/main.cf.d/20-submission-limits.cf): Postfix adds its Received: header
 * before it counts.
 */
export const MIN_MESSAGE_BYTES = 10 * 1024 * 1024;
/** EX_GBM_4420: at most 40 recipients per message. */
export const MAX_RECIPIENTS = 40;

export const submissionSection = z.strictObject({
  /**
   * enforce: refuse what breaks a rule. monitor: log "would refuse …" (and trace it) and let
   * the message through, to roll the rules out on a live service first.
   */
  mode: z.enum(['enforce', 'monitor']).default('enforce'),
  /** Recipients accepted per message; the Référentiel's 40 at most (EX_GBM_4420). */
  maxRecipients: z.number().int().min(1).max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} (EX_GBM_4420)`).default(MAX_RECIPIENTS),
  /** Largest message accepted, in bytes as received; at least 10 MiB (EX_GBM_4410). */
  maxMessageBytes: z
    .number()
    .int()
    .min(MIN_MESSAGE_BYTES, `at least ${MIN_MESSAGE_BYTES} (10 Mo must pass, EX_GBM_4410)`)
    .max(1024 * 1024 * 1024)
    .default(MIN_MESSAGE_BYTES),
  /**
   * Per-sender limit against mass sending from a compromised mailbox (§5.4.3). Off by
   * default: the Référentiel sets none. Senders of dgs.mssante.fr are never limited
   * (EX_3.1_5015, mass health alerts).
   */
  /**
   * Mail submitted on this host without a login (sendmail/pickup, a site's own smtpd) has
   * no identity: only these envelope senders (or, for the null sender, the From: address)
   * may send it, each one of our mailboxes, judged as if logged in as itself — the
   * auto-reply mailbox's replies (EX_GBM_4020), a notices sender. Everything else is refused.
   */
  localSenders: z.array(z.email({ error: 'an e-mail address' }).transform((s) => s.toLowerCase())).default([]),
  rateLimit: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Messages accepted per sender and window. */
      messages: positiveInt.default(200),
      /** Recipients accepted per sender and window (all messages together). */
      recipients: positiveInt.default(2000),
      windowSeconds: positiveInt.default(3600),
      /** Further senders never limited: addresses, or domains (`@` omitted). */
      exempt: z
        .array(
          z
            .string()
            .min(3)
            .max(256)
            .transform((s) => s.toLowerCase()),
        )
        .default([]),
    })
    .prefault({}),
});

export type SubmissionConfig = z.output<typeof submissionSection>;
