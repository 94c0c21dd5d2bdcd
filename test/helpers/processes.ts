// Child processes started by a test file are stopped by PID when the file ends, even when
// an assertion failed halfway, and if the test runner itself is killed.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { after } from 'node:test';
import { killProcessGroup, waitForExit } from '../../src/util/process-group.js';

const children = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) killProcessGroup(child, signal);
  }
}

// Registered when this module is first imported, i.e. at the top level of a test file: an
// `after()` registered later from inside a `before()` hook would run when that hook ends.
after(async () => {
  killAll('SIGTERM');
  await Promise.all([...children].map((c) => waitForExit(c, 3000)));
  killAll('SIGKILL');
});
process.once('exit', () => killAll('SIGKILL'));

export interface Spawned {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Spawn in its own process group; stdout/stderr are captured for failure messages. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.on('exit', () => children.delete(child));
  return {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killProcessGroup(child, signal);
      if (!(await waitForExit(child, timeoutMs))) {
        killProcessGroup(child, 'SIGKILL');
        await waitForExit(child, 2000);
      }
    },
  };
}

/** Resolve when `predicate(output)` holds, or reject with the output after `timeoutMs`. */
export async function waitForOutput(s: Spawned, predicate: (out: string) => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(s.output())) {
    if (s.child.exitCode !== null) throw new Error(`process exited (${s.child.exitCode}) before ready:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for process:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
