// Hostile clients against one operator deployed as production runs it — its real Postfix and
// Dovecot with the shipped pieces, and one `mss-sidecar serve` process (the API LPS fronts
// and checker, the gates, the milter) — the attacks of issue #21, each measured from the
// outside: idle connections must not lock real LPS out, floods must not grow the daemon's
// memory (its RSS, read from /proc), failed logins must be slowed, cut and not each written
// down, a listed peer's RSET must never meet a Postfix limit, tokens for another PSC client
// must be refused, and the entry points must present a chain an LPS can verify.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeCommand, type MilterCommand } from '../../src/milter/commands.js';
import type { OperatorNode } from '../../sandbox/operator-node.js';
import { SANDBOX_PSC_CLIENT_ID, SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { runCommand } from '../../src/util/run-command.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { connectTls, send } from '../helpers/gate-client.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { imapAuthCliLogin, imapXoauth2Login, smtpAuthCliLogin, smtpOverTls, smtpXoauth2Login, xoauth2InitialResponse } from '../helpers/lps-clients.js';
import { freshLoopback } from '../helpers/lps-stack.js';
import { testPki } from '../helpers/pki.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { message, SmtpClient } from '../helpers/smtp-client.js';

const MB = 1024 * 1024;
let psc: SandboxPsc;
let world: TestWorld;
let serve: Spawned;
const node = (): OperatorNode => world.node('A');

/** The figures the test gives `serve`: short enough to watch, the mechanisms are the production ones. */
const FAILED_LOGINS = { delayMs: 200, maxDelayMs: 2000, maxPerSession: 3, maxPerSourcePerMinute: 10, traceWindowSeconds: 3600 };
const PRE_LOGIN_IDLE_SECONDS = 4;

before(async () => {
  const pki = await testPki();
  psc = new SandboxPsc({ tls: { cert: fs.readFileSync(pki.https.chain, 'utf8'), key: fs.readFileSync(pki.https.key, 'utf8') } });
  await psc.start();
  world = await gateWorld({
    mta: 'real',
    daemons: false,
    operators: ['A'],
    psc: { issuer: psc.issuer, ca: pki.root.cert },
    configure: (_op, c) => {
      if (c.auth) {
        c.auth.connections = { preLoginIdleSeconds: PRE_LOGIN_IDLE_SECONDS };
        c.auth.failedLogins = FAILED_LOGINS;
      }
    },
  });
  serve = spawnTracked(process.execPath, [CLI, '--config', node().configFile, 'serve'], { env: cliEnv() });
  await waitForOutput(serve, (out) => /"msg":"ready"/.test(out), 30_000);
});

after(async () => {
  await serve?.stop();
  await world?.stop();
  await psc?.stop();
});

const pid = (): number => serve.child.pid as number;
const clientCert = () => {
  const c = world.pki.authCli.find((x) => x.id === 'A') ?? world.pki.authCli[0];
  return { cert: fs.readFileSync(c?.cert ?? '', 'utf8'), key: fs.readFileSync(c?.key ?? '', 'utf8') };
};

/** Resident set of the `serve` process, kB. */
function rssKb(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid()}/status`, 'utf8'))?.[1] ?? 0);
}

/** Bytes of the functional traces `serve` wrote so far. */
function traceBytes(): number {
  const dir = path.join(node().config.state.dir, 'traces');
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, f);
    if (fs.statSync(full).isFile() && !f.endsWith('manifest.jsonl')) total += fs.statSync(full).size;
  }
  return total;
}

/** A connection that says nothing (it reads, so that it sees the server close it). */
const idle = (port: number, host = '127.0.0.1'): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress: freshLoopback() });
    s.on('error', () => {});
    s.resume();
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

async function timed<T>(what: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await what();
  return { value, ms: performance.now() - t0 };
}

describe('issue #21 item 1 (EX_LPS_0400, EX_LPS_1100): idle connections do not lock real LPS out', () => {
  test('EX_LPS_0400 EX_LPS_0500 EX_LPS_1100: with 100 idle connections on each 587 entry point (PSC and AUTH-CLI), a real login on each of the four entry points succeeds within 2 s; the idle ones are closed at the pre-login idle limit', async () => {
    const p = node().ports;
    const sockets = [
      ...(await Promise.all(Array.from({ length: 100 }, () => idle(p.submission)))),
      ...(await Promise.all(Array.from({ length: 100 }, () => idle(p.authCliSubmission)))),
    ];
    const closed = new Set<net.Socket>();
    for (const s of sockets) s.once('close', () => closed.add(s));
    try {
      const m = node().mailboxes;
      const logins = {
        'PSC 587': await timed(
          async () => (await smtpXoauth2Login(p.submission, m.person, await psc.mint({ idNat: m.holder }), { localAddress: freshLoopback() })).line,
        ),
        'AUTH-CLI 587': await timed(async () => (await smtpAuthCliLogin(p.authCliSubmission, m.app, { localAddress: freshLoopback(), ...clientCert() })).line),
        'PSC 143': await timed(
          async () => (await imapXoauth2Login(p.imap, m.person, await psc.mint({ idNat: m.holder }), { localAddress: freshLoopback() })).line,
        ),
        'AUTH-CLI 143': await timed(async () => (await imapAuthCliLogin(p.authCliImap, m.app, { localAddress: freshLoopback(), ...clientCert() })).line),
      };
      console.log(
        `logins beside 200 idle connections: ${Object.entries(logins)
          .map(([k, v]) => `${k} ${v.ms.toFixed(0)} ms`)
          .join(', ')}`,
      );
      for (const [where, { value, ms }] of Object.entries(logins)) {
        assert.match(value, /^(235 |a3 OK)/, `${where}: ${value}`);
        assert.ok(ms < 2000, `${where}: login took ${ms.toFixed(0)} ms`);
      }
      // Silent since they connected: closed by the front after auth.connections.preLoginIdleSeconds, not 15 minutes.
      const deadline = Date.now() + (PRE_LOGIN_IDLE_SECONDS + 6) * 1000;
      while (closed.size < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed.size, sockets.length, 'idle connections closed at the pre-login idle limit');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  test('EX_LPS_0400: a pre-login flood from one address is capped (auth.connections.maxPreLoginPerSource), while other addresses log in', async () => {
    const p = node().ports;
    const from = freshLoopback();
    const replies: string[] = [];
    const sockets = await Promise.all(
      Array.from(
        { length: 30 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ host: '127.0.0.1', port: p.submission, localAddress: from });
            s.on('data', (d: Buffer) => replies.push(d.toString('latin1')));
            s.on('error', () => {});
            s.once('connect', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    try {
      const deadline = Date.now() + 10_000;
      while (replies.filter((r) => r.startsWith('421 4.7.0 Too many connections from your address')).length < 10 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(replies.filter((r) => r.startsWith('421 4.7.0 Too many connections from your address')).length, 10, replies.join(''));
      const m = node().mailboxes;
      assert.equal((await smtpXoauth2Login(p.submission, m.person, await psc.mint({ idNat: m.holder }), { localAddress: freshLoopback() })).verdict, 'OK');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

/**
 * Write `line` over and over (24 MB at most) without reading a byte, as long as the server
 * takes it; the peak growth of `serve`'s RSS meanwhile. A server with backpressure stops
 * reading: the writes stall and the flood ends after `stallMs` without progress.
 */
async function unreadFlood(
  port: number,
  line: Buffer,
  opts: { host?: string; prelude?: Buffer; greeting?: boolean; totalBytes?: number; stallMs?: number } = {},
): Promise<{ written: number; growthMb: number }> {
  const total = opts.totalBytes ?? 24 * MB;
  const base = rssKb();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb())), 20);
  const socket = net.connect({ host: opts.host ?? '127.0.0.1', port, localAddress: freshLoopback() });
  socket.on('error', () => {});
  // Never read: whatever the server answers stays in the kernel's buffers, then in its own.
  socket.pause();
  let written = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // A client that waits for the greeting, as SMTP and IMAP want, then never reads again.
    if (opts.greeting) {
      await new Promise<void>((resolve) => {
        socket.once('readable', () => resolve());
        setTimeout(resolve, 5000);
      });
    }
    if (opts.prelude) socket.write(opts.prelude);
    const chunk = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / line.length) }, () => line));
    while (written < total && !socket.destroyed) {
      written += chunk.length;
      if (!socket.write(chunk)) {
        const drained = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), opts.stallMs ?? 2000);
          socket.once('drain', () => {
            clearTimeout(t);
            resolve(true);
          });
          socket.once('close', () => {
            clearTimeout(t);
            resolve(false);
          });
        });
        if (!drained) break;
      }
    }
    // Let the server work through what it took.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    clearInterval(sampler);
    socket.destroy();
  }
  return { written, growthMb: (peak - base) / 1024 };
}

/**
 * A milter session up to the body of a message, as an MTA opens it (the milter closes on body
 * packets outside a transaction): protocol 0, so every body packet that follows expects a reply.
 */
const MILTER_OPEN_MESSAGE = Buffer.concat(
  (
    [
      { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0 },
      { type: 'connect', hostname: 'flood.test', family: 'inet', port: 40000, address: '127.0.0.1' },
      { type: 'helo', name: 'flood.test' },
      { type: 'mail', args: ['<flood@flood.test>'] },
      { type: 'rcpt', args: ['<someone@flood.test>'] },
      { type: 'data' },
      { type: 'header', name: 'Subject', value: 'flood' },
      { type: 'eoh' },
    ] satisfies MilterCommand[]
  ).map(encodeCommand),
);

describe('issue #21 item 2: unread floods do not grow the daemon (RSS of `serve`, one test per socket type)', () => {
  const floods: Array<[string, () => { port: number; host?: string; line: Buffer; prelude?: Buffer; greeting?: boolean }]> = [
    ['the PSC submission front (587, line socket before STARTTLS)', () => ({ port: node().ports.submission, greeting: true, line: Buffer.from('NOOP\r\n') })],
    ['the AUTH-CLI submission front (587)', () => ({ port: node().ports.authCliSubmission, greeting: true, line: Buffer.from('NOOP\r\n') })],
    ['the AUTH-CLI IMAP front (143, commands relayed to Dovecot)', () => ({ port: node().ports.authCliImap, greeting: true, line: Buffer.from('a NOOP\r\n') })],
    ['the PSC IMAP front (143, commands relayed to Dovecot)', () => ({ port: node().ports.imap, greeting: true, line: Buffer.from('a NOOP\r\n') })],
    [
      'the inbound gate (25, pipelined commands before STARTTLS)',
      () => ({ port: world.port, host: node().config.gates.in.listen.host, greeting: true, line: Buffer.from('NOOP\r\n') }),
    ],
    [
      'the submission milter (body packets of an opened message, replies unread)',
      () => ({ port: node().ports.milter, prelude: MILTER_OPEN_MESSAGE, line: encodeCommand({ type: 'body', chunk: Buffer.from('x') }) }),
    ],
    ['the checker endpoint (pipelined HTTP requests)', () => ({ port: node().ports.checker, line: Buffer.from('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n') })],
  ];
  for (const [what, target] of floods) {
    test(`issue #21 item 2: a 24 MB unread flood on ${what} grows serve's RSS by less than 20 MB`, async () => {
      const t = target();
      const r = await unreadFlood(t.port, t.line, {
        ...(t.host ? { host: t.host } : {}),
        ...(t.prelude ? { prelude: t.prelude } : {}),
        ...(t.greeting ? { greeting: true } : {}),
      });
      console.log(`${what}: ${(r.written / MB).toFixed(1)} MB written before the server stopped reading, RSS growth ${r.growthMb.toFixed(1)} MB`);
      assert.ok(r.growthMb < 20, `RSS grew by ${r.growthMb.toFixed(1)} MB`);
    });
  }
});

/** One verified session sending a DATA of `sizeMb` to the inbound gate at full speed; the peak RSS growth of `serve` meanwhile. */
async function bigData(sizeMb: number): Promise<{ final: number; growthMb: number }> {
  const b = world.pki.operators.find((o) => o.id === 'B');
  assert.ok(b);
  const { c, afterTls } = await connectTls(node().config.gates.in.listen.host, world.port, { cert: b.cert, key: b.key });
  assert.equal(afterTls.code, 250, afterTls.text);
  const base = rssKb();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb())), 20);
  try {
    assert.equal((await c.command(`MAIL FROM:<bruno.petit@${b.domains[0]}>`)).code, 250);
    assert.equal((await c.command(`RCPT TO:<${node().mailboxes.person}>`)).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    const chunk = Buffer.from(`${'x'.repeat(998)}\r\n`.repeat(64));
    const socket = c.tlsSocket;
    assert.ok(socket);
    for (let written = 0; written < sizeMb * MB; written += chunk.length) if (!c.write(chunk)) await new Promise((r) => socket.once('drain', r));
    c.write('\r\n.\r\n');
    return { final: (await c.read()).code, growthMb: (peak - base) / 1024 };
  } finally {
    clearInterval(sampler);
    await c.quit().catch(() => {});
  }
}

test("issue #21 item 2 EX_GBM_4410: DATA of 24 and 96 MB written at full speed to the inbound gate (over the size limit) get 552, and a message is never held in serve's RSS", async () => {
  // What is measured is whether the gate holds the message: held, a 96 MB DATA grows the RSS
  // by at least 96 MB; streamed, by the buffers in flight (128 KB content writes, TLS records)
  // plus V8's young generation, which is sized by the allocation rate, not by the message: up
  // to 3 × 16 MB semi-spaces, and 20–26 MB was measured for a 24 MB message under load 20. A
  // bound of half the message separates the two whatever the load. The first, smaller stream
  // grows the young generation once (about 30 MB measured, reused afterwards).
  const runs = [await bigData(24), await bigData(96), await bigData(96)];
  console.log(`DATA of 24, 96 and 96 MB through the inbound gate: RSS growth ${runs.map((r) => r.growthMb.toFixed(1)).join(', ')} MB`);
  for (const r of runs) assert.equal(r.final, 552);
  for (const r of runs.slice(1))
    assert.ok(r.growthMb < 48, `RSS grew by ${r.growthMb.toFixed(1)} MB while a 96 MB DATA went through (96 MB = the message held)`);
});

describe('issue #21 item 4 (EX_LPS_0710, EX_GDT_5040): failed logins are slowed, cut and folded in the traces', () => {
  test('EX_LPS_0710 EX_GDT_5040: 1,000 failed AUTH XOAUTH2 pipelined on one session get 3 refusals with growing delays, then 421 and the close; other LPS log in meanwhile; per-address rate; the traces grow by a few records', async () => {
    const m = node().mailboxes;
    const from = freshLoopback();
    const traces0 = traceBytes();
    const { connection: c } = await smtpOverTls(node().ports.submission, { localAddress: from });
    const bad = xoauth2InitialResponse(m.person, 'eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln');
    const t0 = performance.now();
    // The auditor's flood: 1,000 refused logins in one write.
    (c as unknown as { socket: net.Socket }).socket.write(Array.from({ length: 1000 }, () => `AUTH XOAUTH2 ${bad}\r\n`).join(''));
    const times: number[] = [];
    const lines: string[] = [];
    // Another LPS logs in while the flood is being slowed down: its latency is its own.
    const other = timed(
      async () => (await smtpXoauth2Login(node().ports.submission, m.person, await psc.mint({ idNat: m.holder }), { localAddress: freshLoopback() })).line,
    );
    for (;;) {
      try {
        lines.push((await c.expect(/^\d{3} /, 15_000)).line);
        times.push(performance.now() - t0);
      } catch {
        break;
      }
    }
    assert.deepEqual(lines, [
      '535 5.7.8 Authentication credentials invalid',
      '535 5.7.8 Authentication credentials invalid',
      '535 5.7.8 Authentication credentials invalid',
      '421 4.7.0 Too many failed logins, closing connection',
    ]);
    assert.ok(await c.waitClosed(3000), 'closed after the third refusal');
    const [g0 = 0, g1 = 0, g2 = 0] = [times[0] ?? 0, (times[1] ?? 0) - (times[0] ?? 0), (times[2] ?? 0) - (times[1] ?? 0)];
    const gaps = [g0, g1, g2];
    console.log(`refusal delays: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
    // auth.failedLogins.delayMs 200, doubling: 200, 400, 800 ms. Asserted on the times since
    // the pipelined burst left (200, 600, 1,400 ms): a reply that reaches us late under load
    // shortens the next gap as seen here, never the server's cumulative waits.
    const [t1 = 0, t2 = 0, t3 = 0] = times;
    assert.ok(t1 >= 190 && t2 >= 590 && t3 >= 1390, `delays ${gaps.join(', ')} (at ${times.join(', ')} ms)`);
    const o = await other;
    assert.equal(o.value, '235 2.7.0 Authentication successful');
    assert.ok(o.ms < 2000, `the other LPS waited ${o.ms.toFixed(0)} ms`);

    // The same address again and again: beyond 10 refusals a minute, not even checked (454 at once).
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { connection } = await smtpOverTls(node().ports.submission, { localAddress: from });
      for (let j = 0; j < 3 && !connection.closed; j++) {
        connection.send(`AUTH XOAUTH2 ${xoauth2InitialResponse(`x${i}.${j}@${m.person.split('@')[1]}`, 'eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln')}`);
        replies.push((await connection.expect(/^\d{3} /, 15_000)).line);
      }
      connection.destroy();
    }
    assert.ok(replies.filter((r) => r.startsWith('535 ')).length <= 7, replies.join(' | '));
    assert.ok(
      replies.slice(-3).every((r) => r === '454 4.7.0 Temporary authentication failure'),
      replies.join(' | '),
    );

    const grown = traceBytes() - traces0;
    console.log(`trace growth for 1,015 refused logins: ${grown} bytes`);
    // Before: ~571 bytes per refusal (571 KB for the flood alone). Now: one record per distinct refusal.
    assert.ok(grown < 12 * 1024, `traces grew by ${grown} bytes`);
  });
});

describe('issue #21 item 3 (EX_3.1_5010, EX_3.1_5015): the inbound gate answers RSET itself', () => {
  test('EX_3.1_5010 EX_3.1_5015: 300 transactions ended by RSET on one mutual-TLS session are all answered 250 quickly (no Postfix junk limit), and the session still delivers', async () => {
    const b = world.pki.operators.find((o) => o.id === 'B');
    assert.ok(b);
    const { c, afterTls } = await connectTls(node().config.gates.in.listen.host, world.port, { cert: b.cert, key: b.key });
    assert.equal(afterTls.code, 250, afterTls.text);
    const from = `bruno.petit@${b.domains[0]}`;
    const to = node().mailboxes.person;
    const cycle: number[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        for (const command of [`MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'RSET']) {
          const r = await c.command(command);
          assert.equal(r.code, 250, `cycle ${i}, ${command}: ${r.code} ${r.text}`);
        }
        cycle.push(performance.now() - t0);
      }
      const sorted = [...cycle].sort((x, y) => x - y);
      console.log(
        `300 RSET cycles: median ${sorted[150]?.toFixed(1)} ms, max ${sorted[299]?.toFixed(1)} ms, total ${cycle.reduce((a, x) => a + x, 0).toFixed(0)} ms`,
      );
      // Before: 1-2 s per command from about the 100th, 451 around the 120th.
      assert.ok((sorted[299] ?? 0) < 750, `slowest cycle ${sorted[299]?.toFixed(0)} ms`);
      const sent = await send(c, from, [to], message({ from, to: [to], subject: 'after 300 RSET' }));
      assert.equal(sent.data?.code, 250, sent.data?.text);
    } finally {
      await c.quit();
    }
  });

  test('the inbound gate writes its replies in ASCII (no SMTPUTF8 was negotiated): refusals naming the liste blanche MSSante, an accented DN', async () => {
    const host = node().config.gates.in.listen.host;
    const replies: string[] = [];
    const plain = await SmtpClient.connect(world.port, host);
    replies.push((await plain.command('EHLO remote.test')).text, (await plain.command('MAIL FROM:<x@y.fr>')).text);
    await plain.quit();
    const rogue = await connectTls(host, world.port, { cert: world.pki.rogue.cert, key: world.pki.rogue.key });
    replies.push(rogue.afterTls.text);
    await rogue.c.quit().catch(() => {});
    const b = world.pki.operators.find((o) => o.id === 'B');
    assert.ok(b);
    const { c } = await connectTls(host, world.port, { cert: b.cert, key: b.key });
    replies.push((await c.command('MAIL FROM:<someone@gmail.com>')).text, (await c.command(`MAIL FROM:<x@${node().op.domains[0]}>`)).text);
    await c.quit();
    // The refusals say "MSSanté" and name DNs such as ST=Bouches-du-Rhône: written as ASCII.
    assert.ok(
      replies.some((r) => /liste blanche MSSante/.test(r)),
      replies.join('\n'),
    );
    assert.ok(
      replies.some((r) => /ST=Bouches-du-Rhone \(13\)/.test(r)),
      replies.join('\n'),
    );
    for (const line of replies.flatMap((r) => r.split('\n'))) assert.match(line, /^[\x20-\x7e]*$/, line);
  });
});

describe('issue #21 item 5 (EX_LPS_0800): tokens for another PSC client', () => {
  test('EX_LPS_0800 EX_LPS_0900: a PSC token whose aud names another client is refused on IMAP and SMTP (azp ours or not); the same holder with a token for our client gets in', async () => {
    const m = node().mailboxes;
    for (const claims of [{ aud: 'another-service' }, { aud: 'another-service', azp: 'another-client' }, { azp: 'another-client' }]) {
      const token = await psc.mint({ idNat: m.holder, claims });
      assert.equal(
        (await smtpXoauth2Login(node().ports.submission, m.person, token, { localAddress: freshLoopback() })).line,
        '535 5.7.8 Authentication credentials invalid',
        JSON.stringify(claims),
      );
      assert.match(
        (await imapXoauth2Login(node().ports.imap, m.person, token, { localAddress: freshLoopback() })).line,
        /^a3 NO \[AUTHENTICATIONFAILED\]/,
        JSON.stringify(claims),
      );
    }
    assert.equal(psc.clientId, SANDBOX_PSC_CLIENT_ID);
    assert.equal(
      (await smtpXoauth2Login(node().ports.submission, m.person, await psc.mint({ idNat: m.holder }), { localAddress: freshLoopback() })).verdict,
      'OK',
    );
  });
});

describe('issue #21 item 6: the entry points present their whole chain', () => {
  test('EX_LPS_0400 EX_LPS_0500 EX_LPS_1100: curl trusting only the sandbox root logs in on the four entry points (XOAUTH2 on 143/587, a client certificate on AUTH-CLI)', async () => {
    const m = node().mailboxes;
    const p = node().ports;
    const token = await psc.mint({ idNat: m.holder });
    const cli = world.pki.authCli.find((x) => x.id === 'A') ?? world.pki.authCli[0];
    const curl = (url: string, auth: string[]) =>
      runCommand(['curl', '-sS', '--max-time', '20', '--ssl-reqd', '--cacert', world.pki.root.cert, ...auth, url, '-X', 'NOOP'], { timeoutMs: 30_000 });
    const xoauth2 = ['--login-options', 'AUTH=XOAUTH2', '--oauth2-bearer', token, '-u', `${m.person}:`];
    const plainCert = ['--login-options', 'AUTH=PLAIN', '--cert', cli?.cert ?? '', '--key', cli?.key ?? '', '-u', `${m.app}:unused`];
    const runs = {
      'PSC 587': await curl(`smtp://127.0.0.1:${p.submission}`, xoauth2),
      'PSC 143': await curl(`imap://127.0.0.1:${p.imap}/`, xoauth2),
      'AUTH-CLI 587': await curl(`smtp://127.0.0.1:${p.authCliSubmission}`, plainCert),
      'AUTH-CLI 143': await curl(`imap://127.0.0.1:${p.authCliImap}/`, plainCert),
    };
    for (const [where, r] of Object.entries(runs)) assert.equal(r.code, 0, `${where}: curl exit ${r.code}: ${r.stderr}${r.stdout}`);
  });
});
