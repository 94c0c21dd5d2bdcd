// Run a configured command (argv, no shell) with placeholders filled in, a deadline, and
// optional text on stdin. Used by the lifecycle job (doveadm, a notice command).
import { spawn } from 'node:child_process';
import { confirmLeases } from '../cluster/lease-context.js';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Replace {name} in each argument; an unknown placeholder is left as written. */
export function fillArgs(argv: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return argv.map((a) => a.replace(/\{([A-Za-z]+)\}/g, (m, k: string) => values[k] ?? m));
}

/** Output kept per stream by default: the end, where a failing command says why. */
const KEEP_BYTES = 8192;

export async function runCommand(argv: readonly string[], opts: { timeoutMs: number; input?: string; keepBytes?: number }): Promise<CommandResult> {
  // A job under a cluster lease (the lifecycle) runs no command once the lease is lost.
  await confirmLeases();
  return spawnCommand(argv, opts);
}

function spawnCommand(argv: readonly string[], opts: { timeoutMs: number; input?: string; keepBytes?: number }): Promise<CommandResult> {
  const keep = opts.keepBytes ?? KEEP_BYTES;
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      resolve({ code: null, signal: null, stdout: '', stderr: 'empty command', timedOut: false });
      return;
    }
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-keep)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-keep)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}`, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
