// The jobs' side of a cluster (docs/cluster.md): the store they open is lease-aware (their
// writes are fenced by the job's lease), and `--once-per day|hour`, which the timers pass,
// makes the run the cluster's one run of that day or hour (cluster/once.ts).
import type { Command } from 'commander';
import { LeaseAwareStore } from '../cluster/lease-aware-store.js';
import { ONCE_PER, runOncePerSlot, slotOf, type OncePer } from '../cluster/once.js';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import { openStore } from '../store/open.js';
import type { StateStore } from '../store/store.js';
import type { CliOutput } from './io.js';
import { EXIT } from './run-action.js';

/** The store of a job: fenced by the job's lease while it holds one. */
export function openJobStore(cfg: Config): StateStore {
  return new LeaseAwareStore(openStore(cfg.state));
}

export function oncePerOption(cmd: Command): Command {
  return cmd.option(
    '--once-per <period>',
    "run as the cluster's scheduled run (the timers pass it): once per day or hour of operator.timeZone across the nodes — done already: nothing to do; running on another node: wait, and take over if that node dies",
  );
}

export interface ScheduledRun {
  cfg: Config;
  log: Logger;
  store: StateStore;
  /** The job's lease, and the name its runs are recorded under. */
  job: string;
  run?: string;
  oncePer: string | undefined;
  now: Date;
  /** Where "already done" is said (CliContext.out). */
  out: CliOutput;
}

/** Run `fn` (once per slot with --once-per); `print` turns its result into the exit status. */
export async function scheduled<T>(s: ScheduledRun, fn: () => Promise<T>, print: (r: T) => number): Promise<number> {
  if (s.oncePer === undefined) return print(await fn());
  if (!ONCE_PER.includes(s.oncePer as OncePer)) throw new MssError('USAGE_ONCE_PER', `--once-per ${s.oncePer}: expected one of ${ONCE_PER.join(', ')}`);
  const slot = slotOf(s.now, s.oncePer as OncePer, s.cfg.operator.timeZone);
  // Printed under the lease; a run that did not end well (exit status not 0) is not the
  // slot's run: a retry, or the other node, runs it again.
  const outcome = await runOncePerSlot(
    s.store,
    { job: s.job, ...(s.run ? { run: s.run } : {}), slot, log: s.log },
    { run: async () => print(await fn()), completed: (status) => status === EXIT.OK },
  );
  if (outcome.ran) return outcome.result;
  s.out.write(
    `${s.run ?? s.job} run ${slot} already done by ${outcome.by.holder} at ${outcome.by.at} (cluster lease token ${outcome.by.token}): nothing to do\n`,
  );
  return EXIT.OK;
}
