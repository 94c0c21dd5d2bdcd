// CPU affinity by side, for benches that model "each operator on its own machine" on one
// host (bench/gates.ts BENCH_PIN=1): every process of a side is pinned to that side's CPUs
// with `taskset` (util-linux), and a check reads back the Cpus_allowed_list of every thread
// of every process of each side, so a figure is printed only if the pinning really held.
// Processes forked later (Postfix's and Dovecot's masters fork their services on demand)
// inherit the affinity of their parent: pinning each master's whole tree before a phase
// covers the children it starts during it, and the check sees them too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { childrenByParent, processTree } from './cpu.js';

/**
 * The CPUs of a Linux CPU list ("0", "0-1", "0,2-3", as in /proc/<pid>/status
 * Cpus_allowed_list and `taskset -c`), sorted, without duplicates. Throws on anything else,
 * so that a check never compares against a list it misread.
 */
export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('empty CPU list');
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: "${trimmed}" (at "${part}")`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 4096) throw new Error(`not a CPU range: "${part}" in "${trimmed}"`);
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The Cpus_allowed_list line of a /proc/<pid>/status text, parsed. */
export function cpusAllowedOf(status: string): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  if (!m) throw new Error('no Cpus_allowed_list in the status text');
  return parseCpuList(m[1] as string);
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process or thread ended meanwhile
  }
}

function threads(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** One operator's half of a path: the CPUs it may use and the processes that belong to it. */
export interface Side {
  name: string;
  cpus: number[];
  /** Each root with its whole tree, or (tree: false) the process alone (the bench itself). */
  roots: Array<{ name: string; pid: number; tree: boolean }>;
}

function sidePids(side: Side): number[] {
  const children = childrenByParent();
  return side.roots.flatMap((r) => (r.tree ? processTree(r.pid, children) : [r.pid]));
}

/**
 * Sets the affinity of every thread of every process of the side to `cpus` (the side's own
 * when omitted). Each root first, then its descendants, until a pass finds none left over:
 * a child forked while the root was being pinned was either seen by the next pass or forked
 * after the root's change and inherited it.
 */
export function pinSide(side: Side, cpus: number[] = side.cpus): void {
  const list = cpus.join(',');
  for (let pass = 0; pass < 5; pass++) {
    let changed = 0;
    for (const pid of sidePids(side)) {
      const off = threads(pid).some((tid) => {
        const status = readOrUndefined(`/proc/${pid}/task/${tid}/status`);
        return status !== undefined && cpusAllowedOf(status).join(',') !== list;
      });
      if (!off) continue;
      try {
        execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
        changed++;
      } catch {
        if (fs.existsSync(`/proc/${pid}`)) throw new Error(`taskset could not pin process ${pid} of side ${side.name} to CPU ${list}`);
      }
    }
    if (changed === 0) return;
  }
  throw new Error(`side ${side.name}: processes still off CPU ${list} after 5 passes`);
}

/** A thread found off its side's CPUs. */
export interface Stray {
  side: string;
  pid: number;
  tid: number;
  command: string;
  allowed: string;
}

/** Accumulates what every check saw, for the one-line verdict. */
export class AffinityCheck {
  samples = 0;
  readonly processes = new Map<string, Set<number>>();
  readonly strays: Stray[] = [];

  constructor(private readonly sides: Side[]) {
    for (const s of sides) this.processes.set(s.name, new Set());
  }

  /** Reads the Cpus_allowed_list of every thread of every process of each side now. */
  sample(): void {
    this.samples++;
    for (const side of this.sides) {
      const want = side.cpus.join(',');
      for (const pid of sidePids(side)) {
        for (const tid of threads(pid)) {
          const status = readOrUndefined(`/proc/${pid}/task/${tid}/status`);
          if (status === undefined) continue;
          this.processes.get(side.name)?.add(pid);
          const allowed = cpusAllowedOf(status).join(',');
          if (allowed !== want) {
            const command = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?';
            this.strays.push({ side: side.name, pid, tid, command, allowed });
          }
        }
      }
    }
  }

  held(): boolean {
    return this.samples > 0 && this.strays.length === 0;
  }

  summary(): string {
    const per = this.sides.map((s) => `${s.name} on CPU ${s.cpus.join(',')}: ${this.processes.get(s.name)?.size ?? 0} processes`).join('; ');
    if (this.held()) return `pinning check held: every thread of every process, ${this.samples} samples during the pinned runs (${per})`;
    const shown = this.strays
      .slice(0, 5)
      .map((s) => `${s.side} ${s.command} pid ${s.pid} tid ${s.tid} allowed ${s.allowed}`)
      .join(', ');
    return `pinning check FAILED: ${this.strays.length} thread samples off their side's CPU in ${this.samples} samples (${shown}); pinned figure withheld`;
  }
}
