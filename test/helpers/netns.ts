// A network namespace joined to this one by a veth pair, so that a test can cut a process
// off from a server (a real partition: its packets go nowhere) and heal it again. The
// servers listen on `hostIp` (this namespace's end), which processes of both sides reach;
// `run` prefixes a command so that it runs inside the namespace. Needs root (ip netns).
import { execFileSync } from 'node:child_process';
import { after } from 'node:test';

export interface Netns {
  name: string;
  hostIp: string;
  nsIp: string;
  /** argv prefix: run the rest in the namespace. */
  prefix: string[];
  cut(): void;
  heal(): void;
  remove(): void;
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

export function netnsAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'root is needed to create a network namespace';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`;
  }
}

export function createNetns(): Netns {
  const tag = (process.pid % 10_000).toString(36);
  const name = `mss-t${tag}`;
  const hostVeth = `mssh${tag}`;
  const nsVeth = `mssn${tag}`;
  const octet = 16 + (process.pid % 200);
  const hostIp = `10.219.${octet}.1`;
  const nsIp = `10.219.${octet}.2`;
  const remove = (): void => {
    try {
      ip('link', 'del', hostVeth);
    } catch {
      /* gone with the namespace */
    }
    try {
      ip('netns', 'del', name);
    } catch {
      /* never created */
    }
  };
  remove();
  ip('netns', 'add', name);
  ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth);
  ip('link', 'set', nsVeth, 'netns', name);
  ip('addr', 'add', `${hostIp}/30`, 'dev', hostVeth);
  ip('link', 'set', hostVeth, 'up');
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsVeth);
  ip('netns', 'exec', name, 'ip', 'link', 'set', nsVeth, 'up');
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  after(remove);
  return {
    name,
    hostIp,
    nsIp,
    prefix: ['ip', 'netns', 'exec', name],
    cut: () => ip('link', 'set', hostVeth, 'down'),
    heal: () => ip('link', 'set', hostVeth, 'up'),
    remove,
  };
}
