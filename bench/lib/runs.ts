// Interleaved runs of ours and an anchor, measured the same way: wall time, CPU seconds
// (user + system, children included) and peak resident memory of each run, from GNU time
// (/usr/bin/time, Debian package `time`). On a shared machine the load hits both sides of a
// pair alike; min and median over the pairs, with the load average beside them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt } from './stats.js';

export interface Run {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  stdout: string;
}

export const GNU_TIME = '/usr/bin/time';
export const gnuTimeMissing = (): boolean => !fs.existsSync(GNU_TIME);

/** Runs `cmd args` under GNU time; rejects with its output when it fails. */
export async function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-time-')), 'time');
  try {
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', out, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`);
    const [wall, user, sys, rssKb] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
    return { wallS: wall ?? NaN, cpuS: (user ?? NaN) + (sys ?? NaN), rssMiB: (rssKb ?? NaN) / 1024, stdout };
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

export const minMedian = (xs: readonly number[], digits = 2, unit = ''): string =>
  `min ${fmt(Math.min(...xs), digits)}${unit} median ${fmt(median(xs), digits)}${unit}`;

export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
