// Configuration of the lifecycle job (Référentiel #1 §5.1.3, §5.6, §5.7): how users are
// told before depublication or deletion (outside the Espace de Confiance), and the
// commands that empty a deleted mailbox and purge the auto-reply mailboxes.
// Commands are argv lists run without a shell; {address}, {local} and {domain} are
// replaced in each argument.
import { z } from 'zod';
import { filePath, port, positiveInt } from '../config/atoms.js';
import { dateText } from '../registry/schema.js';

const argv = z.array(z.string().min(1)).min(1, 'a command as a list: [program, arg, ...]');

/**
 * The auto-reply mailbox's messages older than {maxAgeDays}, received or saved (EX_GBM_4030):
 * the purge and the check after it must select with the same criterion, so it is written once.
 */
const OLDER_THAN_MAX_AGE = ['mailbox', '*', '(', 'savedbefore', '{maxAgeDays}d', 'OR', 'before', '{maxAgeDays}d', ')'];

export const lifecycleSection = z.strictObject({
  notices: z
    .strictObject({
      /** smtp: e-mail to the user's contact.email through a relay; command: run `command`. */
      via: z.enum(['smtp', 'command']).default('smtp'),
      /** From: of notice e-mails, a non-MSSanté address of the operator. */
      from: z.string().min(3).optional(),
      replyTo: z.string().min(3).optional(),
      /** Who signs the notices (default: operator.name). */
      signature: z.string().min(1).optional(),
      smtp: z
        .strictObject({
          // No default: with the shipped Postfix pieces the local Postfix listens on loopback
          // only and sends nothing outside MSSanté (default_transport is the outbound gate),
          // so notices to a personal address need the site's ordinary relay, named here.
          host: z.string().min(1).optional(),
          port: port.default(25),
          /** TLS from the first byte (465); otherwise STARTTLS when offered. */
          secure: z.boolean().default(false),
          /** Refuse to send unless STARTTLS succeeds. */
          requireTLS: z.boolean().default(false),
          rejectUnauthorized: z.boolean().default(true),
          user: z.string().min(1).optional(),
          passwordFile: filePath.optional(),
          timeoutMs: positiveInt.default(30_000),
        })
        .prefault({}),
      /** With via: command — receives the notice text on stdin; placeholders {email}, {phone}, {kind}, {date} too. */
      command: argv.optional(),
    })
    .prefault({}),
  /** EX_GBM_6010: empties a deleted mailbox's mail store. */
  deleteCommand: argv.default(['doveadm', 'expunge', '-u', '{address}', 'mailbox', '*', 'all']),
  /**
   * EX_GBM_4030 (§5.1.3): auto-reply messages are deleted "au maximum un mois après leur
   * réception". One month is 28 days at the shortest and the purge runs once a day, so a
   * message lives up to maxAgeDays + 1 day: at most 27. Checked after every purge
   * (autoreply-purge.ts), whatever the command.
   */
  autoreplyMaxAgeDays: z
    .number()
    .int()
    .min(1)
    .max(27, 'at most 27 days: the daily purge lets a message live one day more and a month is 28 days at the shortest (EX_GBM_4030)')
    .default(27),
  /** Removes the auto-reply mailbox's messages older than {maxAgeDays} (received or saved: maildir's save date is the file's ctime, which renames refresh). */
  purgeAutoreplyCommand: argv.default(['doveadm', 'expunge', '-u', '{address}', ...OLDER_THAN_MAX_AGE]),
  /** Lists what is still older than {maxAgeDays} after the purge (one line per message): anything listed fails the purge. */
  autoreplyCheckCommand: argv.default(['doveadm', 'search', '-u', '{address}', ...OLDER_THAN_MAX_AGE]),
  commandTimeoutMs: positiveInt.default(120_000),
  /**
   * The day from which logins are known to be recorded (YYYY-MM-DD): inactivity counts from
   * the latest of this day, the last login and the creation. Set it to the installation day
   * (a freshly imported registry has no login history); unset: stats.loginsRecordedSince,
   * else the day `serve` first recorded logins (known-since.ts).
   */
  activityKnownSince: dateText.optional(),
  /**
   * Notices and deletions one run may do on its own; above it the run stops and asks for
   * `lifecycle run --confirm N` (N: the number planned, as `--dry-run` prints it).
   */
  maxActionsPerRun: z.number().int().nonnegative().default(10),
});

export type LifecycleConfig = z.output<typeof lifecycleSection>;
