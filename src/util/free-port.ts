// Free loopback ports for servers started by tests and the sandbox self-check, with several
// test processes running in parallel.
//
// Asking the kernel for port 0 and releasing it is racy twice over: the port comes from the
// ephemeral range, where any outgoing connection of any process may take it before the
// server binds it; and another test process may be handed the same port meanwhile. So ports
// are drawn at random below the ephemeral range (outgoing connections never use those), and
// each one is reserved across processes with an exclusive lock file naming the owner's PID
// (stale locks of dead processes are taken over), held until the process exits.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from './process-group.js';

const LOCK_DIR = path.join(os.tmpdir(), 'mss-ports');
const held = new Set<number>();
let exitHooked = false;

function portRange(): [number, number] {
  let low = 32768;
  try {
    low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: assume the usual range */
  }
  return [Math.max(10_000, low - 12_000), low - 1];
}

/** Reserve `port` for this process across test processes; false if another live one has it. */
export function reservePort(port: number): boolean {
  fs.mkdirSync(LOCK_DIR, { recursive: true, mode: 0o1777 });
  const lock = path.join(LOCK_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      held.add(port);
      if (!exitHooked) {
        exitHooked = true;
        process.once('exit', () => {
          for (const p of held) fs.rmSync(path.join(LOCK_DIR, String(p)), { force: true });
        });
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (owner === process.pid || isProcessAlive(owner)) return false;
      fs.rmSync(lock, { force: true }); // left by a process that died: take it over
    }
  }
  return false;
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = portRange();
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (held.has(port) || !reservePort(port)) continue;
    if (await canBind(port, host)) return port;
    // In use by something that is not ours: keep it reserved so we do not pick it again.
  }
  throw new Error(`no free port found in ${low}-${high} on ${host}`);
}

type Ports<N extends number, T extends number[] = []> = T['length'] extends N ? T : Ports<N, [...T, number]>;

/** `const [a, b] = await freePorts(2)`: distinct ports, typed as a tuple. */
export async function freePorts<N extends number>(n: N, host = '127.0.0.1'): Promise<Ports<N>> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort(host));
  return [...ports] as Ports<N>;
}
