// The session-limit front of the API LPS entry points, against a scripted backend: PROXY
// header, relaying, and the two limits of EX_LPS_1000 (shortened to seconds).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { SessionFront, type FrontProtocol } from '../../src/auth/front/session-front.js';
import { TicketBook } from '../../src/auth/tickets.js';
import { isMssError } from '../../src/errors.js';
import { captureLogger } from '../helpers/log.js';
import { freePort } from '../helpers/ports.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const stoppers: Array<() => Promise<void>> = [];
after(async () => {
  for (const s of stoppers.reverse()) await s();
});

interface Backend {
  port: number;
  received: string[];
  sockets: net.Socket[];
}

/** Calls `each` with every line the socket receives (CRLF or LF, without the line end). */
function onLines(s: net.Socket, each: (line: string) => void): void {
  let buf = '';
  s.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      each(line);
    }
  });
}

/** A backend that greets, echoes lines as "ECHO <line>", and can push lines by itself. */
async function backend(greeting = '* OK ready'): Promise<Backend> {
  const b: Backend = { port: 0, received: [], sockets: [] };
  const server = net.createServer((s) => {
    b.sockets.push(s);
    s.setEncoding('utf8');
    s.write(`${greeting}\r\n`);
    onLines(s, (line) => {
      b.received.push(line);
      if (line === 'QUIT') s.end('BYE now\r\n');
      else if (!line.startsWith('PROXY ')) s.write(`ECHO ${line}\r\n`);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as net.AddressInfo).port;
  stoppers.push(
    () =>
      new Promise((r) => {
        for (const s of b.sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return b;
}

async function front(backendPort: number, idleSeconds: number, maxSeconds: number, protocol: FrontProtocol = 'imap'): Promise<SessionFront> {
  const f = new SessionFront({
    protocol,
    listen: { host: '127.0.0.1', port: 0 },
    backend: { host: '127.0.0.1', port: backendPort },
    limits: { idleSeconds, maxSeconds },
    log: captureLogger().log,
  });
  await f.start();
  stoppers.push(() => f.stop());
  return f;
}

interface Client {
  socket: net.Socket;
  text(): string;
  closedAfter(): Promise<number>;
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const start = Date.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - start)));
  return { socket, text: () => text, closedAfter: () => closed };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('EX_LPS_1000 EX_LPS_0110: the front relays both ways and gives the backend the client address in a PROXY header', async () => {
  const b = await backend();
  const f = await front(b.port, 60, 600);
  const c = await connect(f.port);
  c.socket.write('a1 NOOP\r\n');
  await until(() => c.text().includes('ECHO a1 NOOP'));
  assert.match(c.text(), /^\* OK ready\r\n/);
  assert.equal(b.received[0], `PROXY TCP4 127.0.0.1 127.0.0.1 ${c.socket.localPort} ${f.port}`);
  c.socket.write('QUIT\r\n');
  assert.ok((await c.closedAfter()) < 2000);
  assert.match(c.text(), /BYE now\r\n$/);
  await until(() => f.closed.backend + f.closed.client === 1);
});

test('EX_LPS_1000: a session without client input ends after the idle limit, whatever the server keeps sending', async () => {
  const b = await backend();
  const f = await front(b.port, 1, 30);
  const c = await connect(f.port);
  await until(() => b.sockets.length === 1);
  const pusher = setInterval(() => b.sockets[0]?.write('* 1 EXISTS\r\n'), 200);
  try {
    const closedAfter = await c.closedAfter();
    assert.ok(closedAfter >= 950 && closedAfter < 2000, String(closedAfter));
    assert.match(c.text(), /\* 1 EXISTS/);
    assert.equal(f.closed.idle, 1);
  } finally {
    clearInterval(pusher);
  }
});

test('EX_LPS_1000: every command resets the idle limit; the maximum duration ends the session anyway', async () => {
  const b = await backend();
  const f = await front(b.port, 1, 3);
  const c = await connect(f.port);
  const talker = setInterval(() => c.socket.write('a NOOP\r\n'), 300);
  try {
    const closedAfter = await c.closedAfter();
    assert.ok(closedAfter >= 2950 && closedAfter < 4000, String(closedAfter));
    assert.equal(f.closed['max-duration'], 1);
    assert.equal(f.closed.idle, 0);
  } finally {
    clearInterval(talker);
  }
});

test('EX_LPS_1000: a backend that cannot be reached gets a protocol-correct temporary refusal', async () => {
  const dead = await freePort();
  for (const [protocol, expected] of [
    ['imap', '* BYE [UNAVAILABLE] Service temporarily unavailable\r\n'],
    ['smtp', '421 4.3.2 Service temporarily unavailable\r\n'],
  ] as const) {
    const f = await front(dead, 60, 600, protocol);
    const c = await connect(f.port);
    await c.closedAfter();
    assert.equal(c.text(), expected);
    assert.equal(f.closed['backend-unavailable'], 1);
  }
});

test('EX_LPS_1000: stopping the front ends every session', async () => {
  const b = await backend();
  const f = await front(b.port, 60, 600);
  const clients = await Promise.all([connect(f.port), connect(f.port)]);
  await until(() => f.activeSessions === 2 && b.sockets.length === 2);
  await f.stop();
  await Promise.all(clients.map((c) => c.closedAfter()));
  assert.equal(f.closed.shutdown, 2);
});

test('EX_LPS_1000: the configuration gives `serve` an IMAP and a submission front with its limits, none when auth.front is off', async () => {
  const { parseConfigText } = await import('../../src/config/load.js');
  const { lpsFronts } = await import('../../src/auth/front/service.js');
  const base = 'operator:\n  name: X\n  domains: [x.mssante.fr]\n  structureId: "1130000000"\n  certificate: c\n  key: k\ntrust:\n  dir: t\n';
  const log = captureLogger().log;
  const deps = { psc: { evaluate: () => Promise.reject(new Error('not called')) }, tickets: new TicketBook(), log };
  assert.deepEqual(lpsFronts(parseConfigText(base, 'c.yaml'), deps), []);
  assert.deepEqual(lpsFronts(parseConfigText(`${base}auth:\n  psc: {audience: x}\n  front: {enabled: false}\n`, 'c.yaml'), deps), []);
  const b = await backend();
  const [imapPort, smtpPort] = [await freePort(), await freePort()];
  const cert = selfSignedCert(tmpDir());
  const cfg = parseConfigText(
    `${base}auth:\n  psc: {audience: x}\n  sessions: {idleSeconds: 1, maxSeconds: 60}\n  front:\n    certificate: ${cert.certFile}\n    key: ${cert.keyFile}\n    imap: {listen: {host: 127.0.0.1, port: ${imapPort}}, backend: {port: ${b.port}}}\n    submission: {listen: {host: 127.0.0.1, port: ${smtpPort}}, backend: {port: ${b.port}}}\n`,
    'c.yaml',
  );
  const fronts = lpsFronts(cfg, deps);
  assert.equal(fronts.length, 2);
  for (const f of fronts) {
    await f.start();
    stoppers.push(() => f.stop());
  }
  const c = await connect(imapPort);
  const closedAfter = await c.closedAfter();
  assert.ok(closedAfter >= 950 && closedAfter < 2000, String(closedAfter));
  assert.match(c.text(), /^\* OK ready/);
  // The submission front greets as Postfix does, read from Postfix: this backend is no Postfix.
  const s = await connect(smtpPort);
  await s.closedAfter();
  assert.match(s.text(), /^421 4\.3\.2 /);
});

test('EX_LPS_0100: the submission front cannot start without the entry point certificate, and says which setting names it', async () => {
  const { parseConfigText } = await import('../../src/config/load.js');
  const { lpsFronts } = await import('../../src/auth/front/service.js');
  const cfg = parseConfigText(
    'operator:\n  name: X\n  domains: [x.mssante.fr]\n  structureId: "1130000000"\n  certificate: c\n  key: k\ntrust:\n  dir: t\nauth:\n  psc: {audience: x}\n  front:\n    certificate: /nonexistent/lps.crt\n',
    'c.yaml',
  );
  assert.throws(
    () => lpsFronts(cfg, { psc: { evaluate: () => Promise.reject(new Error('not called')) }, tickets: new TicketBook(), log: captureLogger().log }),
    (err: unknown) => isMssError(err, 'CONFIG_FRONT_TLS') && /auth\.front\.certificate/.test(err.message),
  );
});

test('EX_LPS_0900 steps 2–4: the submission front decodes the XOAUTH2 response (base64, user=, auth=Bearer, ^A^A) and refuses anything else', async () => {
  const { parseXoauth2, xoauth2Response } = await import('../../src/auth/front/xoauth2.js');
  assert.deepEqual(parseXoauth2(xoauth2Response('Jean.Dupond@ch.mssante.fr', 'eyJ.a.b')), { ok: true, user: 'Jean.Dupond@ch.mssante.fr', token: 'eyJ.a.b' });
  assert.deepEqual(parseXoauth2(Buffer.from('user=a@b.fr\x01auth=bearer  tok\x01\x01').toString('base64')), { ok: true, user: 'a@b.fr', token: 'tok' });
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  for (const bad of [
    'user=a@b.fr\x01auth=Bearer tok\x01',
    'user=a@b.fr\x01\x01',
    'auth=Bearer tok\x01\x01',
    'user=a@b.fr\x01auth=Basic dG9r\x01\x01',
    'user=a@b.fr\x01user=c@d.fr\x01auth=Bearer tok\x01\x01',
    '',
  ]) {
    assert.deepEqual(parseXoauth2(b64(bad)), { ok: false, reason: 'format' }, JSON.stringify(bad));
  }
  assert.deepEqual(parseXoauth2('not base64!'), { ok: false, reason: 'base64' });
});

/** A backend that notes when each line arrives and can send two lines apart in time. */
async function timingBackend(): Promise<{ port: number; arrivals: Map<string, number>; sendPair: (gapMs: number) => void }> {
  const arrivals = new Map<string, number>();
  const sockets: net.Socket[] = [];
  const server = net.createServer({ noDelay: true }, (s) => {
    sockets.push(s);
    s.setEncoding('utf8');
    s.write('* OK ready\r\n');
    onLines(s, (line) => {
      arrivals.set(line, performance.now());
      if (line.startsWith('ping')) s.write(`pong ${line}\r\n`);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stoppers.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    arrivals,
    sendPair: (gapMs) => {
      const s = sockets.at(-1) as net.Socket;
      s.write(`* first ${gapMs}\r\n`);
      setTimeout(() => s.write(`* second ${gapMs}\r\n`), gapMs);
    },
  };
}

test("the front relays a short line as it comes, both ways, not after the peer's delayed ACK (TCP_NODELAY: each login is a few short lines)", async () => {
  const b = await timingBackend();
  const f = await front(b.port, 60, 600);
  const c = await connect(f.port);
  c.socket.setNoDelay(true);
  const arrivedAtClient = new Map<string, number>();
  c.socket.on('data', (d: string) => {
    for (const m of d.matchAll(/\* (first|second) (\d+)/g)) arrivedAtClient.set(`${m[1]} ${m[2]}`, performance.now());
  });
  // A few round trips first, as a login does.
  for (let i = 0; i < 3; i++) {
    c.socket.write(`ping${i}\r\n`);
    await until(() => c.text().includes(`pong ping${i}`));
  }
  const toBackend: number[] = [];
  const toClient: number[] = [];
  const GAP = 5;
  for (let i = 0; i < 5; i++) {
    // Client → backend: two lines GAP ms apart; the second must not wait for an ACK of the first.
    c.socket.write(`one${i}\r\n`);
    await new Promise((r) => setTimeout(r, GAP));
    const sent = performance.now();
    c.socket.write(`two${i}\r\n`);
    await until(() => b.arrivals.has(`two${i}`));
    toBackend.push((b.arrivals.get(`two${i}`) as number) - sent);
    // Backend → client, the same.
    b.sendPair(GAP + i);
    await until(() => arrivedAtClient.has(`second ${GAP + i}`));
    toClient.push((arrivedAtClient.get(`second ${GAP + i}`) as number) - (arrivedAtClient.get(`first ${GAP + i}`) as number) - (GAP + i));
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  // With Nagle's algorithm the second line waits for the delayed ACK of the first (40 ms on Linux: 30–35 ms here).
  process.stdout.write(
    `# second line late by (ms): to backend ${toBackend.map((x) => x.toFixed(1)).join(' ')}, to client ${toClient.map((x) => x.toFixed(1)).join(' ')}\n`,
  );
  assert.ok(median(toBackend) < 20, `client → backend: the second line arrived ${toBackend.map((x) => x.toFixed(1)).join(', ')} ms after it was sent`);
  assert.ok(median(toClient) < 20, `backend → client: the second line arrived ${toClient.map((x) => x.toFixed(1)).join(', ')} ms late`);
});
