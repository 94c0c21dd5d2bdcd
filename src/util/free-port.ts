// Free loopback ports for servers started by tests and the sandbox self-check (several may
// run in parallel).
import net from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

type Ports<N extends number, T extends number[] = []> = T['length'] extends N ? T : Ports<N, [...T, number]>;

/** `const [a, b] = await freePorts(2)`: distinct ports, typed as a tuple. */
export async function freePorts<N extends number>(n: N, host = '127.0.0.1'): Promise<Ports<N>> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort(host));
  return [...ports] as Ports<N>;
}
