// A real redis-server for a test file: a foreground child on a free loopback port, no
// persistence, stopped by PID when the file ends (see processes.ts).
import net from 'node:net';
import { freePort } from './ports.js';
import { spawnTracked, type Spawned } from './processes.js';

export interface RedisServer {
  url: string;
  port: number;
  process: Spawned;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Listen on this port (restarting a stopped server where its clients expect it). */
  port?: number;
  /** Keep the data in this directory (append-only file, fsync always): it survives a restart. */
  dir?: string;
}

export async function startRedis(timeoutMs = 5000, opts: RedisOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const persistence = opts.dir ? ['--dir', opts.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const p = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--protected-mode', 'yes']);
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (p.child.exitCode !== null) throw new Error(`redis-server exited (${p.child.exitCode}):\n${p.output()}`);
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`redis-server did not listen on ${port} in ${timeoutMs} ms:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { url: `redis://127.0.0.1:${port}`, port, process: p, stop: () => p.stop() };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
