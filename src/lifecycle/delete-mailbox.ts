// Deleting a mailbox (EX_GBM_6010): empty its mail store with lifecycle.deleteCommand, then
// mark its registry entry deleted (the entry and the traces stay, EX_GDT_5070). In this order
// so that a failed command leaves the mailbox as it was: the lifecycle job retries it the next
// night, an administrator sees the error. One operation for `bal delete` and the lifecycle
// job: both trace a failed command (bal.purge-store) and change the registry the same way.
import { registryChange } from '../cluster/registry-change.js';
import { MssError } from '../errors.js';
import { deleteMailbox, type ChangeResult, type EditEnv } from '../registry/operations.js';
import type { Bal } from '../registry/registry.js';
import type { StateStore } from '../store/store.js';
import { fillArgs, runCommand } from '../util/run-command.js';
import type { LifecycleConfig } from './config.js';

export interface MailboxDeletion {
  /** Who deletes (the administrator, or system:lifecycle), the registry file, the traces. */
  edit: EditEnv;
  /** The state store: with Redis (several nodes) the change is made on the cluster's registry. */
  store: StateStore | undefined;
  stateDir: string | undefined;
  config: Pick<LifecycleConfig, 'deleteCommand' | 'commandTimeoutMs'>;
}

/** `purgeMail: false`: the site empties the mail store itself (`bal delete --no-purge-mail`). */
export async function deleteMailboxWithMail(d: MailboxDeletion, bal: Bal, reason: string, opts: { purgeMail?: boolean } = {}): Promise<ChangeResult> {
  if (opts.purgeMail !== false) await emptyMailStore(d, bal);
  return registryChange(d.store, d.edit.file, d.stateDir, () => deleteMailbox(d.edit, bal.address, reason));
}

async function emptyMailStore(d: MailboxDeletion, bal: Bal): Promise<void> {
  const r = await runCommand(fillArgs(d.config.deleteCommand, { address: bal.address, local: bal.localPart, domain: bal.domain }), {
    timeoutMs: d.config.commandTimeoutMs,
  });
  if (r.code === 0) return;
  const message = `lifecycle.deleteCommand failed for ${bal.address} (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${r.stderr.trim().slice(0, 300)}; the mailbox is unchanged`;
  d.edit.traces.write({
    action: 'bal.purge-store',
    actor: d.edit.actor,
    bal: bal.address,
    ...(d.edit.means ? { means: d.edit.means } : {}),
    ...(d.edit.address ? { address: d.edit.address } : {}),
    request: { command: d.config.deleteCommand[0], now: (d.edit.now?.() ?? new Date()).toISOString() },
    response: { ok: false, code: 'LIFECYCLE_COMMAND_FAILED', message },
  });
  throw new MssError('LIFECYCLE_COMMAND_FAILED', message, { bal: bal.address, command: d.config.deleteCommand[0] ?? '' });
}
