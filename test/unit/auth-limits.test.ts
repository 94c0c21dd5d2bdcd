// The pieces that bound what a hostile client gets (issue #21): the admission caps before
// login, the failed-login policy, the folding of identical refusals in the traces, and the
// backpressure of the fronts' line sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { FailedLoginTraces } from '../../src/auth/failure-traces.js';
import { LineSocket } from '../../src/auth/front/line-socket.js';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import type { FailedLogin } from '../../src/auth/ports.js';
import { Admission, type AdmissionSlot } from '../../src/net/admission.js';

test('EX_LPS_0400: admission before login — per-address cap, a reserve for logged-in sessions, the oldest unauthenticated session evicted for a newer one', () => {
  const a = new Admission({ maxPreLoginPerSource: 2, maxSessions: 5, authenticatedReserve: 2 });
  const evicted: string[] = [];
  const admit = (source: string, name: string): AdmissionSlot | string => a.admit(source, () => evicted.push(name));
  const s1 = admit('192.0.2.1', 's1');
  admit('192.0.2.1', 's2');
  assert.equal(admit('192.0.2.1', 's3'), 'source-limit', 'a third unauthenticated session from one address');
  assert.equal(typeof s1, 'object');
  // s1 logs in: its address may open another one.
  (s1 as AdmissionSlot).authenticated();
  const s4 = admit('192.0.2.1', 's4');
  assert.equal(typeof s4, 'object');
  // Unauthenticated pool: 5 - 2 = 3 (s2, s4, s5); the next one evicts the oldest, s2.
  const s5 = admit('192.0.2.2', 's5');
  assert.equal(typeof s5, 'object');
  const s6 = admit('192.0.2.3', 's6');
  assert.equal(typeof s6, 'object');
  assert.deepEqual(evicted, ['s2']);
  assert.equal(a.preLoginSessions, 3);
  // Logged-in sessions can use the reserve; when every slot is logged in, new ones are refused.
  for (const s of [s4, s5, s6]) (s as AdmissionSlot).authenticated();
  const s7 = admit('192.0.2.4', 's7') as AdmissionSlot;
  s7.authenticated();
  assert.equal(a.sessions, 5);
  assert.equal(admit('192.0.2.5', 's8'), 'full');
  s7.release();
  s7.release();
  assert.equal(a.sessions, 4, 'release is idempotent');
  assert.equal(typeof admit('192.0.2.5', 's9'), 'object');
});

test('EX_LPS_0710: failed logins — the delay doubles per refusal up to the maximum, the session ends after maxPerSession, an address over its rate waits for the next minute', () => {
  let now = 1_000_000;
  const t = new LoginThrottle({ delayMs: 1000, maxDelayMs: 5000, maxPerSession: 3, maxPerSourcePerMinute: 4, traceWindowSeconds: 60 }, () => now);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => t.delayMs(n)),
    [1000, 2000, 4000, 5000, 5000],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => t.exhausted(n)),
    [false, false, true],
  );
  for (let i = 0; i < 4; i++) {
    assert.ok(t.allowed('192.0.2.1'));
    t.failed('192.0.2.1');
  }
  assert.equal(t.allowed('192.0.2.1'), false);
  assert.ok(t.allowed('192.0.2.2'), 'other addresses are not concerned');
  now += 60_000;
  assert.ok(t.allowed('192.0.2.1'), 'a minute later');
});

test('EX_GDT_5040: 1,000 identical refused logins make two trace records — the first at once, then one with the count — and different refusals each keep theirs', async () => {
  const written: FailedLogin[] = [];
  const traces = new FailedLoginTraces({ recordFailedLogin: async (f) => void written.push(f) }, 3600, (err) => assert.fail(String(err)));
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60));
  const refusal = (i: number, extra: Partial<FailedLogin> = {}): FailedLogin => ({
    mailbox: 'a@b.fr',
    authType: 'PSC-XOAUTH2',
    reason: 'token-signature',
    temporary: false,
    service: 'smtp',
    remoteIp: '192.0.2.1',
    session: `s${i}`,
    at: at(i),
    ...extra,
  });
  for (let i = 0; i < 1000; i++) await traces.recordFailedLogin(refusal(i));
  await traces.recordFailedLogin(refusal(0, { remoteIp: '192.0.2.2' }));
  await traces.recordFailedLogin(refusal(0, { reason: 'token-expired' }));
  assert.equal(written.length, 3, 'one record per distinct refusal so far');
  assert.equal(traces.folded, 999);
  await traces.flush();
  assert.equal(written.length, 4);
  const summary = written[3];
  assert.equal(summary?.repeated?.count, 999);
  assert.equal(summary?.repeated?.since.toISOString(), at(0).toISOString());
  assert.equal(summary?.session, undefined, 'the count covers several sessions');
});

/** A LineSocket over a real loopback connection, and the client's side. */
async function linePair(): Promise<{ server: net.Socket; lines: LineSocket; client: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect({ host: '127.0.0.1', port: (listener.address() as net.AddressInfo).port });
  client.on('error', () => {});
  const server = await accepted;
  const lines = new LineSocket(server, 1024);
  return {
    server,
    lines,
    client,
    close() {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

/** Write up to `bytes` of `line` until the peer stops taking them (2 s without a drain). */
async function flood(socket: net.Socket, line: string, bytes: number): Promise<number> {
  const chunk = Buffer.from(line.repeat(Math.ceil(65_536 / line.length)));
  let written = 0;
  while (written < bytes) {
    written += chunk.length;
    if (!socket.write(chunk)) {
      const drained = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 2000);
        socket.once('drain', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!drained) break;
    }
  }
  return written;
}

test('issue #21 item 2: a line socket reads a few lines ahead of its consumer, not a 24 MB flood (pipelined commands)', async () => {
  const p = await linePair();
  try {
    const first = p.lines.line();
    const written = await flood(p.client, 'NOOP\r\n', 24 * 1024 * 1024);
    assert.equal(await first, 'NOOP');
    // The consumer took one line; the server read what the kernel handed it before pausing.
    assert.ok(written < 24 * 1024 * 1024, `the client wrote all ${written} bytes`);
    assert.ok(p.server.bytesRead < 1024 * 1024, `the server read ${p.server.bytesRead} bytes`);
  } finally {
    p.close();
  }
});

test('issue #21 item 2: a line socket stops reading while its replies are not read (a NOOP flood that never reads the 250s)', async () => {
  const p = await linePair();
  try {
    let answered = 0;
    const consumer = (async () => {
      for (;;) {
        const line = await p.lines.line();
        if (line === undefined) return;
        p.lines.write(`250 2.0.0 Ok ${'x'.repeat(100)}\r\n`);
        answered += 1;
      }
    })();
    p.client.pause();
    const written = await flood(p.client, 'NOOP\r\n', 24 * 1024 * 1024);
    assert.ok(written < 24 * 1024 * 1024, `the client wrote all ${written} bytes`);
    // Replies held by the server: what the kernel did not take, at most about 64 KB more.
    assert.ok(p.server.writableLength < 256 * 1024, `${p.server.writableLength} bytes of replies held`);
    assert.ok(answered < 100_000, `${answered} lines answered`);
    p.close();
    await consumer;
  } finally {
    p.close();
  }
});
