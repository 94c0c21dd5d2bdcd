// CPU time a process has used (user + system), read from /proc/<pid>/stat: how much work an
// engine did for the messages of a phase, whatever else the machine was busy with. For an
// engine of several processes (postfwd2's preforked children, the milter's cluster workers)
// the whole tree counts: every live process's time plus what its ended children used.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | undefined;

function fields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function cpuSeconds(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const f = fields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / ticksPerSecond : NaN;
}

/** Every live process's children, by parent pid (one pass over /proc/<n>/stat). */
export function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = fields(Number(name));
    if (!f) continue;
    const list = children.get(Number(f[1]));
    if (list) list.push(Number(name));
    else children.set(Number(f[1]), [Number(name)]);
  }
  return children;
}

/** `pid` and its live descendants; pass one `childrenByParent()` to walk several trees from one reading of /proc. */
export function processTree(pid: number, children = childrenByParent()): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Write system calls (write, writev…: sockets and files alike) made so far by `pid` and its
 * live descendants, from /proc/<pid>/io `syscw`: the count a write coalescing changes,
 * whatever the machine's load.
 */
export function writeCallsTree(pid: number): number {
  let n = 0;
  for (const p of processTree(pid)) {
    try {
      n += Number(/^syscw: (\d+)$/m.exec(fs.readFileSync(`/proc/${p}/io`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** CPU seconds of `pid` and all its descendants, including their ended (waited-for) children. */
export function cpuTreeSeconds(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = fields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / ticksPerSecond;
}
