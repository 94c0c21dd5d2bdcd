// Benchmark of the XOAUTH2 checker endpoint (issue 6: ≥ 5,000 checks/s, p99 < 5 ms with
// warm JWKS and UserInfo caches; JWKS fetched at most once per rotation).
//
// A worker thread runs what production runs — the sandbox PSC stands in for Pro Santé
// Connect — the checker and its HTTP endpoint; the main thread plays Dovecot's auth workers:
// keep-alive HTTP clients posting the Lua passdb's form. Every check does the full token
// verification (signature, claims) and the habilitation lookup; UserInfo answers come from
// the cache, as they do for every login after a token's first.
//   node dist/bench/auth.js [--seconds 5] [--concurrency 8] [--tokens 500]
// Concurrency is the number of checks in flight, i.e. of Dovecot auth workers waiting on
// the endpoint at once (8: a busy site). The endpoint is one event loop, so beyond the
// rate it sustains, more concurrency only queues: latency ≈ concurrency / throughput.
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

interface Setup {
  url: string;
  tokens: Array<{ user: string; token: string }>;
}
interface Counters {
  jwksFetches: number;
  userInfoCalls: number;
  pscJwksRequests: number;
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

if (isMainThread) await main();
else await server();

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 8);
  const tokenCount = arg('tokens', 500);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-auth-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'k.pem'),
        '-out',
        path.join(dir, 'c.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { dir, tokenCount } });
    const ask = <T>(message: string): Promise<T> =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(message);
      });
    const setup = await ask<Setup>('setup');
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const bodies = setup.tokens.map((t) =>
      new URLSearchParams({ user: t.user, token: t.token, service: 'imap', mech: 'XOAUTH2', rip: '192.0.2.1', session: 'bench' }).toString(),
    );

    // Warm-up: every token once (first UserInfo call, JWKS fetch), then a short run.
    for (const body of bodies) if ((await post(setup.url, body, agent)).status !== 200) throw new Error('warm-up check refused');
    await run(setup.url, bodies, agent, concurrency, 1);
    const warm = await ask<Counters>('counters');

    // CPU of the whole process minus this (client) thread = the endpoint's thread and the
    // libuv pool where WebCrypto verifies signatures: a cost per check the machine's load
    // does not change.
    const cpu0 = process.cpuUsage();
    const client0 = threadCpu();
    const result = await run(setup.url, bodies, agent, concurrency, seconds);
    const cpu1 = process.cpuUsage(cpu0);
    const endpointCpu = cpu1.user + cpu1.system - (threadCpu() - client0);
    const after = await ask<Counters>('counters');

    // Rotation: PSC publishes a new key; tokens signed with it cost one JWKS fetch in all.
    const rotated = await ask<Setup>('rotate');
    const rotatedBodies = rotated.tokens.map((t) =>
      new URLSearchParams({ user: t.user, token: t.token, service: 'smtp', mech: 'XOAUTH2', rip: '192.0.2.1' }).toString(),
    );
    const rotation = await run(setup.url, rotatedBodies, agent, concurrency, 1);
    const afterRotation = await ask<Counters>('counters');

    const lat = result.latencies.sort((a, b) => a - b);
    const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
    const rate = result.count / seconds;
    const lines = [
      `checks: ${result.count} in ${seconds} s with ${concurrency} concurrent clients, ${bodies.length} distinct tokens (${result.refused} refused)`,
      `throughput: ${Math.round(rate)} checks/s (target >= 5000)`,
      `latency: p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${(lat[lat.length - 1] ?? NaN).toFixed(2)} ms (target p99 < 5 ms)`,
      `UserInfo calls during the measured run: ${after.userInfoCalls - warm.userInfoCalls} (warm cache)`,
      `endpoint CPU: ${(endpointCpu / result.count).toFixed(0)} µs per check, i.e. ${Math.round((result.count * 1e6) / endpointCpu)} checks/s per core it fully uses`,
      `JWKS fetches: ${warm.jwksFetches} before the run, ${after.jwksFetches - warm.jwksFetches} during it, ${afterRotation.jwksFetches - after.jwksFetches} for one key rotation (${rotation.count} checks with new-key tokens, ${rotation.refused} refused)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await ask('stop');
    await worker.terminate();
    agent.destroy();
    const ok =
      rate >= 5000 &&
      pct(99) < 5 &&
      after.jwksFetches === warm.jwksFetches &&
      afterRotation.jwksFetches - after.jwksFetches === 1 &&
      result.refused === 0 &&
      rotation.refused === 0;
    if (!ok) process.stdout.write('auth benchmark: below target\n');
    process.exitCode = process.env.MSS_BENCH_STRICT === '1' && !ok ? 1 : 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function post(url: string, body: string, agent: http.Agent): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(
  url: string,
  bodies: string[],
  agent: http.Agent,
  concurrency: number,
  seconds: number,
): Promise<{ count: number; refused: number; latencies: number[] }> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let count = 0;
  let refused = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const body = bodies[next++ % bodies.length] as string;
        const t0 = performance.now();
        const { status } = await post(url, body, agent);
        latencies.push(performance.now() - t0);
        count += 1;
        if (status !== 200) refused += 1;
      }
    }),
  );
  return { count, refused, latencies };
}

/** CPU time (user + system, µs) of the calling thread, from /proc (process.cpuUsage() counts every thread). */
function threadCpu(): number {
  try {
    const tid = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = tid.slice(tid.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / 100;
  } catch {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
}

async function server(): Promise<void> {
  const { dir, tokenCount } = workerData as { dir: string; tokenCount: number };
  const { SandboxPsc } = await import('../sandbox/psc/sandbox-psc.js');
  const { buildChecker } = await import('../src/auth/build-checker.js');
  const { authSection } = await import('../src/auth/config.js');
  const { CheckerEndpoint } = await import('../src/auth/endpoint.js');
  const { silentLogger } = await import('../src/log.js');
  type Access = Pick<import('../src/auth/ports.js').MailboxAccess, 'decide' | 'recordLogin' | 'recordFailedLogin'>;

  const cert = fs.readFileSync(path.join(dir, 'c.pem'), 'utf8');
  const psc = new SandboxPsc({ tls: { cert, key: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8') } });
  await psc.start();
  const holders = new Map<string, string>();
  const access: Access = {
    async decide(idNat, mailbox) {
      return holders.get(mailbox) === idNat ? { allowed: true, role: 'holder' } : { allowed: false, reason: 'not-authorised' };
    },
    async recordLogin() {},
    async recordFailedLogin() {},
  };
  const cfg = authSection.parse({ psc: { issuer: psc.issuer, caFile: '/unused', audience: psc.clientId, jwksCooldownSeconds: 1 } });
  const built = buildChecker(cfg.psc, { access, log: silentLogger, ca: cert });
  const endpoint = new CheckerEndpoint(built.checker, { host: '127.0.0.1', port: 0 }, silentLogger);
  await endpoint.start();

  const mintAll = async (prefix: string): Promise<Setup> => {
    const tokens: Setup['tokens'] = [];
    for (let i = 0; i < tokenCount; i += 1) {
      const idNat = `8${String(i).padStart(11, '0')}`;
      const user = `${prefix}${i}@ch-bench.mssante.fr`;
      holders.set(user, idNat);
      tokens.push({ user, token: await psc.mint({ idNat, ttlSeconds: 3600 }) });
    }
    return { url: endpoint.url, tokens };
  };

  parentPort?.on('message', async (message: string) => {
    if (message === 'setup') parentPort?.postMessage(await mintAll('user'));
    else if (message === 'counters')
      parentPort?.postMessage({
        jwksFetches: built.verifier.jwksFetches,
        userInfoCalls: built.userInfo.calls,
        pscJwksRequests: psc.counts.jwks,
      } satisfies Counters);
    else if (message === 'rotate') {
      await new Promise((r) => setTimeout(r, 1100));
      await psc.rotate();
      parentPort?.postMessage(await mintAll('rotated'));
    } else if (message === 'stop') {
      await endpoint.stop();
      await psc.stop();
      parentPort?.postMessage('stopped');
    }
  });
}
