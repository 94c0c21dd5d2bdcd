// EX_GBM_4030 (§5.1.3): "Les messages contenus dans la boîte aux lettres de réponse
// automatique doivent être supprimés au maximum un mois après leur réception." The daily
// lifecycle run purges each auto-reply BAL with the configured command, then checks the
// mailbox itself with the check command: a message still older than maxAgeDays (≤ 27, see
// config.ts) fails the purge — traced, reported, retried by the next run — whatever the
// purge command is, so the bound does not rest on a default in a command line.
import type { Bal } from '../registry/registry.js';
import { fillArgs, runCommand, type CommandResult } from '../util/run-command.js';
import type { LifecycleConfig } from './config.js';

export interface PurgeOutcome {
  ok: boolean;
  /** LIFECYCLE_COMMAND_FAILED (purge or check could not run), LIFECYCLE_AUTOREPLY_NOT_PURGED (messages left). */
  code?: 'LIFECYCLE_COMMAND_FAILED' | 'LIFECYCLE_AUTOREPLY_NOT_PURGED';
  detail?: string;
  /** Messages older than the bound found after the purge. */
  leftOver: number;
  maxAgeDays: number;
}

type Config = Pick<LifecycleConfig, 'autoreplyMaxAgeDays' | 'purgeAutoreplyCommand' | 'autoreplyCheckCommand' | 'commandTimeoutMs'>;

const failed = (what: string, r: CommandResult): string =>
  `${what} failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${r.stderr.trim().slice(0, 300)}`;

export async function purgeAutoreply(config: Config, bal: Bal): Promise<PurgeOutcome> {
  const maxAgeDays = config.autoreplyMaxAgeDays;
  const values = { address: bal.address, local: bal.localPart, domain: bal.domain, maxAgeDays: String(maxAgeDays) };
  const purge = await runCommand(fillArgs(config.purgeAutoreplyCommand, values), { timeoutMs: config.commandTimeoutMs });
  if (purge.code !== 0) return { ok: false, code: 'LIFECYCLE_COMMAND_FAILED', detail: failed('purge command', purge), leftOver: 0, maxAgeDays };
  const check = await runCommand(fillArgs(config.autoreplyCheckCommand, values), { timeoutMs: config.commandTimeoutMs, keepBytes: 1 << 20 });
  if (check.code !== 0) return { ok: false, code: 'LIFECYCLE_COMMAND_FAILED', detail: failed('check command', check), leftOver: 0, maxAgeDays };
  const leftOver = check.stdout.split('\n').filter((l) => l.trim() !== '').length;
  if (leftOver > 0) {
    return {
      ok: false,
      code: 'LIFECYCLE_AUTOREPLY_NOT_PURGED',
      detail: `${leftOver} message(s) of ${bal.address} are still older than ${maxAgeDays} days after the purge (EX_GBM_4030: at most one month after reception); check lifecycle.purgeAutoreplyCommand`,
      leftOver,
      maxAgeDays,
    };
  }
  return { ok: true, leftOver: 0, maxAgeDays };
}
