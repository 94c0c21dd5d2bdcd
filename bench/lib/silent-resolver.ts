// Runs a benchmark again inside a private mount namespace whose /etc/resolv.conf names a
// resolver on loopback that records every question and never answers (a resolver whose
// packets are all lost). Every process of the benchmark — Node, Postfix, Dovecot — reads
// that file, so any DNS lookup on the measured path waits for the resolver's whole timeout
// (5 s, the stall of issue 20) and is listed by name, instead of costing 5 s once in a few
// hundred lookups when a packet happens to be lost on the real network.
// Needs root and util-linux's unshare; without them the caller runs with the system resolver.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DnsResponder } from '../../sandbox/dns-responder.js';

const INNER = 'MSS_BENCH_SILENT_RESOLVER';

/** True in the re-run process (inside the namespace). */
export const underSilentResolver = (): boolean => process.env[INNER] === '1';

/** Why the silent resolver cannot be used here, or undefined when it can. */
export function silentResolverUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? undefined : 'unshare -m does not work here';
}

const TYPES: Record<number, string> = { 1: 'A', 12: 'PTR', 15: 'MX', 28: 'AAAA', 33: 'SRV' };

/**
 * Re-runs this script (same arguments) under the silent resolver, its output passed
 * through; resolves with its exit code and the DNS questions asked meanwhile.
 */
export async function rerunUnderSilentResolver(): Promise<{ code: number; queries: string[] }> {
  // A loopback address of its own (port 53 is fixed in resolv.conf), per process.
  const address = `127.53.${Math.floor(process.pid / 250) % 250}.${(process.pid % 250) + 2}`;
  const dns = new DnsResponder({}, { silent: true });
  await dns.start(53, address);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-resolv-'));
  const resolv = path.join(dir, 'resolv.conf');
  // One attempt of 5 s (glibc's default timeout): one lost lookup costs what it cost in issue 20.
  fs.writeFileSync(resolv, `nameserver ${address}\noptions timeout:5 attempts:1\n`);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(resolv, 0o644);
  try {
    const script = `mount --bind "$0" /etc/resolv.conf && exec "$@"`;
    const child = spawn(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', script, resolv, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, [INNER]: '1' },
      },
    );
    const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
    return { code, queries: dns.queries.map((q) => `${TYPES[q.type] ?? q.type} ${q.name}`) };
  } finally {
    await dns.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
