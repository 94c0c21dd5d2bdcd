// No mass action by surprise: notices and deletions are the lifecycle's acts a user feels
// (an e-mail saying the mailbox will go, a mailbox emptied). When one run plans more of them
// than lifecycle.maxActionsPerRun, it does none of them and asks a person to look
// (`lifecycle run --dry-run`) and confirm the exact number (`--confirm N`). A changed
// situation (one more mailbox) changes N, so an old confirmation does not carry over.
// Depublications are not counted: each follows a notice that was itself within the cap or
// confirmed, and a login undoes it. The daily auto-reply purge is not counted either.
import type { PlannedAction } from './plan.js';

export interface Guarded {
  notices: number;
  deletions: number;
}

export type GuardVerdict = { go: true; planned: Guarded } | { go: false; planned: Guarded; cap: number; reason: string };

export function guardedCounts(actions: readonly PlannedAction[]): Guarded {
  return {
    notices: actions.filter((a) => a.kind === 'notice').length,
    deletions: actions.filter((a) => a.kind === 'delete').length,
  };
}

/** Whether the notices and deletions of this run may go ahead. */
export function checkCap(actions: readonly PlannedAction[], cap: number, confirm: number | undefined): GuardVerdict {
  const planned = guardedCounts(actions);
  const total = planned.notices + planned.deletions;
  if (confirm !== undefined && confirm !== total) {
    return {
      go: false,
      planned,
      cap,
      reason: `--confirm ${confirm} does not match what this run plans: ${describe(planned)} (${total}); look at \`lifecycle run --dry-run\` again`,
    };
  }
  if (total > cap && confirm === undefined) {
    return {
      go: false,
      planned,
      cap,
      reason: `this run plans ${describe(planned)}, more than lifecycle.maxActionsPerRun (${cap}): nothing of it was done. Check the plan with \`lifecycle run --dry-run\` (is activityKnownSince right? were logins recorded?), then run \`lifecycle run --confirm ${total}\``,
    };
  }
  return { go: true, planned };
}

function describe(g: Guarded): string {
  return `${g.notices} notice${g.notices === 1 ? '' : 's'} and ${g.deletions} deletion${g.deletions === 1 ? '' : 's'}`;
}

export interface SummaryLine {
  /** notice:depublish, notice:delete, depublish, delete, purge, blocked:<kind>. */
  action: string;
  /** For notices: the day the action is planned from; otherwise the day of this run. */
  date: string;
  count: number;
}

/** What a run does (or would do), counted by action and date: what a person reviews. */
export function summarize(actions: readonly PlannedAction[], now: number): SummaryLine[] {
  const today = new Date(now).toISOString().slice(0, 10);
  const counts = new Map<string, SummaryLine>();
  for (const a of actions) {
    const action = a.kind === 'notice' ? `notice:${a.notice}` : a.kind === 'blocked' ? `blocked:${a.notice}` : a.kind;
    const date = a.kind === 'notice' ? new Date(a.scheduledFor).toISOString().slice(0, 10) : today;
    const key = `${action} ${date}`;
    const line = counts.get(key) ?? { action, date, count: 0 };
    line.count++;
    counts.set(key, line);
  }
  return [...counts.values()].sort((x, y) => x.action.localeCompare(y.action) || x.date.localeCompare(y.date));
}
