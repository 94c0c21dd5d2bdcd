// The milter server driven by a scripted MTA on loopback: decisions per stage, ordering
// with async handlers, failure containment and timeouts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import net from 'node:net';
import { after, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { encodeCommand } from '../../src/milter/commands.js';
import { encodePacket } from '../../src/milter/framing.js';
import { decide, type Decision, type EomContext, type MilterHandler, type SessionContext } from '../../src/milter/handler.js';
import { MilterServer, type MilterServerOptions } from '../../src/milter/server.js';
import { Action, Proto } from '../../src/milter/constants.js';
import { captureLogger } from '../helpers/log.js';
import { FakeMta, POSTFIX_V6_OFFER, runTransaction } from '../helpers/milter-mta.js';
import { tmpDir } from '../helpers/tmp.js';

const log = createLogger({ level: process.env.MSS_LOG_LEVEL === 'debug' ? 'debug' : 'silent', pretty: false });
const servers: MilterServer[] = [];
after(async () => {
  for (const s of servers) await s.stop(100);
});

async function serve(handler: MilterHandler, opts: Partial<MilterServerOptions> = {}): Promise<MilterServer> {
  const server = new MilterServer({ listen: { kind: 'inet', host: '127.0.0.1', port: 0 }, handler, log, ...opts });
  await server.start();
  servers.push(server);
  return server;
}

async function mta(server: MilterServer): Promise<FakeMta> {
  const m = await FakeMta.connect(server.port ?? 0);
  await m.negotiate();
  await m.event(
    { type: 'connect', hostname: 'lps.test', family: 'inet', port: 40000, address: '192.0.2.7' },
    { '{client_addr}': '192.0.2.7', '{client_name}': 'lps.test', j: 'mx.test' },
  );
  await m.event({ type: 'helo', name: 'lps.test' }, { '{tls_version}': 'TLSv1.3', '{cipher}': 'TLS_AES_256_GCM_SHA384' });
  return m;
}

test('a transaction: macros, envelope, headers and sizes reach the handler; one recipient refused with a custom reply, a header added', async () => {
  const seen: Record<string, unknown> = {};
  const server = await serve({
    mail(ctx, sender) {
      seen.login = ctx.macros.get('{auth_authen}');
      seen.sender = sender.address;
    },
    rcpt(ctx, r) {
      if (r.address.endsWith('@gmail.com')) return decide.reply(550, '5.7.1', `Domaine gmail.com hors de l'espace de confiance MSSante`);
      return undefined;
    },
    eom(ctx) {
      seen.queueId = ctx.queueId;
      seen.client = ctx.macros.get('client_addr');
      seen.tls = ctx.macros.get('tls_version');
      seen.recipients = ctx.message.recipients.map((r) => r.address);
      seen.subject = ctx.message.header('subject');
      seen.size = [ctx.message.headerBytes, ctx.message.bodyBytes];
      ctx.addHeader('X-MSS-Checked', 'ok');
      ctx.insertHeader(0, 'X-MSS-First', 'first');
      return decide.continue();
    },
  });
  const m = await mta(server);
  const r = await runTransaction(m, {
    sender: 'alice@ch.mssante.fr',
    recipients: ['bob@autre.mssante.fr', 'eve@gmail.com', 'carol@autre.mssante.fr'],
    headers: [['Subject', 'CR']],
    body: 'hello\r\n',
    queueId: 'Q42',
  });
  assert.deepEqual(r.mail, { type: 'continue' });
  assert.deepEqual(r.rcpt, [
    { type: 'continue' },
    { type: 'replycode', reply: `550 5.7.1 Domaine gmail.com hors de l'espace de confiance MSSante` },
    { type: 'continue' },
  ]);
  assert.deepEqual(r.eom, [
    { type: 'addheader', name: 'X-MSS-Checked', value: 'ok' },
    { type: 'insheader', index: 0, name: 'X-MSS-First', value: 'first' },
    { type: 'continue' },
  ]);
  assert.deepEqual(seen, {
    login: 'alice@ch.mssante.fr',
    sender: 'alice@ch.mssante.fr',
    queueId: 'Q42',
    client: '192.0.2.7',
    tls: 'TLSv1.3',
    recipients: ['bob@autre.mssante.fr', 'carol@autre.mssante.fr'],
    subject: 'CR',
    size: ['Subject: CR\r\n'.length, 'hello\r\n'.length],
  });
  await m.quit();
});

test('a MAIL refusal and the simple decisions reach the MTA as the matching responses', async () => {
  const server = await serve({
    mail: (_ctx, s) => (s.address.startsWith('other') ? decide.reply(553, '5.7.1', 'Sender not owned by the authenticated user') : undefined),
    rcpt: (_ctx, r) => {
      const local = r.address.split('@')[0];
      if (local === 'reject') return decide.reject();
      if (local === 'tempfail') return decide.tempfail();
      if (local === 'discard') return decide.discard();
      if (local === 'accept') return decide.accept();
      return decide.continue();
    },
  });
  const m = await mta(server);
  assert.deepEqual(await m.decision({ type: 'mail', args: ['<other@x.fr>'] }), {
    type: 'replycode',
    reply: '553 5.7.1 Sender not owned by the authenticated user',
  });
  await m.event({ type: 'abort' });
  assert.deepEqual(await m.decision({ type: 'mail', args: ['<me@x.fr>'] }), { type: 'continue' });
  for (const k of ['reject', 'tempfail', 'discard', 'accept']) assert.deepEqual(await m.decision({ type: 'rcpt', args: [`<${k}@x.fr>`] }), { type: k });
  await m.quit();
});

test('async handlers with random delays never reorder replies, within one connection or across 40 concurrent ones', async () => {
  const server = await serve({
    async rcpt(_ctx, r) {
      await new Promise((res) => setTimeout(res, Math.random() * 5));
      return r.address.startsWith('no') ? decide.reply(550, '5.7.1', `refused ${r.address}`) : undefined;
    },
    async header(ctx, h) {
      await new Promise((res) => setTimeout(res, Math.random() * 3));
      const order = (ctx.state.get('order') as string[] | undefined) ?? [];
      order.push(h.name);
      ctx.state.set('order', order);
    },
    async eom(ctx) {
      await new Promise((res) => setTimeout(res, Math.random() * 5));
      return decide.reply(550, '5.7.1', `order ${(ctx.state.get('order') as string[]).join(',')} rcpts ${ctx.message.recipients.length}`);
    },
  });
  await Promise.all(
    Array.from({ length: 40 }, async (_, n) => {
      const m = await mta(server);
      const rcpts = Array.from({ length: 10 }, (_, i) => `${(i + n) % 3 === 0 ? 'no' : 'ok'}${i}@c${n}.fr`);
      // As Postfix does: the transaction opens with MAIL (the session closes on a RCPT before it).
      m.send({ type: 'mail', args: [`<from@c${n}.fr>`] });
      // Pipeline: send all recipients at once, then read the replies in order.
      for (const r of rcpts) m.send({ type: 'rcpt', args: [`<${r}>`] });
      for (const r of rcpts)
        assert.deepEqual(await m.read(), r.startsWith('no') ? { type: 'replycode', reply: `550 5.7.1 refused ${r}` } : { type: 'continue' });
      const headers = ['A', 'B', 'C', 'D', 'E'];
      for (const h of headers) m.send({ type: 'header', name: h, value: String(n) });
      for (let i = 0; i < headers.length; i++) assert.deepEqual(await m.read(), { type: 'continue' });
      const eom = await m.decision({ type: 'eom', chunk: Buffer.alloc(0) });
      const accepted = rcpts.filter((r) => r.startsWith('ok')).length;
      assert.deepEqual(eom, { type: 'replycode', reply: `550 5.7.1 order A,B,C,D,E rcpts ${accepted}` });
      await m.quit();
    }),
  );
});

test('a handler that throws or returns garbage temp-fails the message, and the next message is judged normally', async () => {
  const server = await serve({
    rcpt(_ctx, r) {
      if (r.address === 'boom@x.fr') throw new Error('registry unreachable');
      if (r.address === 'garbage@x.fr') return { action: 'reply', reply: { code: 550, status: '5.7.1', text: 'bad\r\n250 injected' } } as never;
      if (r.address === 'weird@x.fr') return { action: 'maybe' } as never;
      return undefined;
    },
    eom: () => decide.continue(),
  });
  for (const bad of ['boom', 'garbage', 'weird']) {
    const m = await mta(server);
    await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
    assert.deepEqual(await m.decision({ type: 'rcpt', args: [`<${bad}@x.fr>`] }), { type: 'tempfail' }, bad);
    // The rest of that message is temp-failed without asking the handler again.
    assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<fine@x.fr>'] }), { type: 'tempfail' });
    assert.deepEqual(await m.decision({ type: 'eom', chunk: Buffer.alloc(0) }), { type: 'tempfail' });
    // Next message on the same connection.
    await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
    assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<fine@x.fr>'] }), { type: 'continue' });
    assert.deepEqual(await m.decision({ type: 'eom', chunk: Buffer.alloc(0) }), { type: 'continue' });
    await m.quit();
  }
});

test('an invalid header edit, a discard at connect and a slow handler each end in a temporary failure', async () => {
  const server = await serve(
    {
      connect: (ctx) => (ctx.client?.address === '192.0.2.66' ? decide.discard() : undefined),
      rcpt: async (_ctx, r) => {
        if (r.address === 'slow@x.fr') await new Promise((res) => setTimeout(res, 1000));
      },
      eom: (ctx) => ctx.addHeader('X-Bad', 'line\r\nBcc: everyone@x.fr'),
    },
    { timeouts: { handlerMs: 150 } },
  );
  const m = await mta(server);
  await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
  const t0 = Date.now();
  assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<slow@x.fr>'] }), { type: 'tempfail' });
  assert.ok(Date.now() - t0 < 900, 'the handler timeout answered before the handler finished');
  await m.event({ type: 'abort' });
  await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
  assert.deepEqual(await m.event({ type: 'eom', chunk: Buffer.alloc(0) }), [{ type: 'tempfail' }]);
  await m.quit();

  const m2 = await FakeMta.connect(server.port ?? 0);
  await m2.negotiate();
  assert.deepEqual(await m2.decision({ type: 'connect', hostname: 'x', family: 'inet', port: 1, address: '192.0.2.66' }), { type: 'tempfail' });
  await m2.quit();
});

test('garbage, oversized packets, a command before negotiation and a second negotiation close that connection only', async () => {
  const server = await serve({ eom: () => decide.continue() }, { maxPacketBytes: 70_000 });
  const attacks: Array<(m: FakeMta) => void> = [
    (m) => m.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
    (m) => m.sendRaw(encodePacket('B', Buffer.alloc(80_000))),
    (m) => m.sendRaw(Buffer.from([0, 0, 0, 0])),
    (m) => m.sendRaw(encodePacket('z')),
    (m) => m.sendRaw(encodePacket('C', Buffer.from('no terminator'))),
  ];
  for (const [i, attack] of attacks.entries()) {
    const m = await FakeMta.connect(server.port ?? 0);
    if (i > 0) await m.negotiate();
    attack(m);
    await Promise.race([m.closed, new Promise((_, rej) => setTimeout(() => rej(new Error(`attack ${i}: connection not closed`)), 2000))]);
  }
  const early = await FakeMta.connect(server.port ?? 0);
  early.send({ type: 'mail', args: ['<a@b>'] });
  await early.closed;
  const twice = await FakeMta.connect(server.port ?? 0);
  await twice.negotiate();
  twice.send({ type: 'optneg', version: 6, actions: 0, protocol: 0 });
  await twice.closed;
  // The server still works.
  const m = await mta(server);
  assert.deepEqual((await runTransaction(m, { sender: 'a@x.fr', recipients: ['b@x.fr'] })).eom, [{ type: 'continue' }]);
  await m.quit();
});

test('RCPT, DATA, headers, body and end of message outside a transaction close the connection, as no Postfix sends them; ABORT ends a transaction and MAIL opens the next', async () => {
  const server = await serve({ eom: () => decide.continue() });
  const outside: Array<[string, (m: FakeMta) => Promise<void>]> = [
    ['RCPT before MAIL', async (m) => m.send({ type: 'rcpt', args: ['<b@x.fr>'] })],
    ['DATA before MAIL', async (m) => m.send({ type: 'data' })],
    ['a header before MAIL', async (m) => m.send({ type: 'header', name: 'Subject', value: 'x' })],
    ['EOH before MAIL', async (m) => m.send({ type: 'eoh' })],
    ['a body chunk before MAIL', async (m) => m.send({ type: 'body', chunk: Buffer.from('x') })],
    ['end of message before MAIL', async (m) => m.send({ type: 'eom', chunk: Buffer.alloc(0) })],
    [
      'a body chunk after ABORT',
      async (m) => {
        m.send({ type: 'mail', args: ['<a@x.fr>'] });
        m.send({ type: 'abort' });
        m.send({ type: 'body', chunk: Buffer.from('x') });
      },
    ],
    [
      'a body chunk after the end of message',
      async (m) => {
        assert.deepEqual((await runTransaction(m, { sender: 'a@x.fr', recipients: ['b@x.fr'] })).eom, [{ type: 'continue' }]);
        m.send({ type: 'body', chunk: Buffer.from('x') });
      },
    ],
  ];
  for (const [what, send] of outside) {
    const m = await mta(server);
    await send(m);
    const reply = await Promise.race([m.read(3000), m.closed.then(() => 'closed')]);
    assert.ok(reply === undefined || reply === 'closed', `${what}: answered ${JSON.stringify(reply)} instead of closing`);
    assert.ok(m.isClosed, `${what}: connection still open`);
  }
  // What Postfix does on one connection: MAIL, ABORT (RSET, or a refused MAIL), then MAIL again and a whole message; ABORT outside a transaction (a new EHLO) is harmless.
  const m = await mta(server);
  m.send({ type: 'abort' });
  m.send({ type: 'mail', args: ['<a@x.fr>'] });
  m.send({ type: 'rcpt', args: ['<b@x.fr>'] });
  m.send({ type: 'abort' });
  assert.deepEqual((await runTransaction(m, { sender: 'a@x.fr', recipients: ['b@x.fr'], body: 'hello\r\n' })).eom, [{ type: 'continue' }]);
  m.send({ type: 'abort' });
  assert.deepEqual((await runTransaction(m, { sender: 'c@x.fr', recipients: ['d@x.fr'] })).eom, [{ type: 'continue' }]);
  await m.quit();
});

test('issue #21 item 2: pipelined body chunks are answered in order, the replies of one read leave in one write', async () => {
  const server = await serve({ eom: (ctx) => decide.reply(550, '5.7.1', `body ${ctx.message.bodyBytes}`) });
  const m = await FakeMta.connect(server.port ?? 0);
  // Protocol 0: no step left out, a reply expected after each body chunk.
  await m.negotiate({ version: 6, actions: 0x1ff, protocol: 0 });
  assert.deepEqual(await m.decision({ type: 'connect', hostname: 'lps.test', family: 'inet', port: 40000, address: '192.0.2.7' }), { type: 'continue' });
  assert.deepEqual(await m.decision({ type: 'mail', args: ['<a@x.fr>'] }), { type: 'continue' });
  // Count the writes of the server's side of the connection (the socket whose local port is the server's).
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (this.localPort === server.port) writes++;
    return write.apply(this, args);
  } as net.Socket['write'];
  const n = 2000;
  try {
    m.sendRaw(Buffer.concat(Array.from({ length: n }, (_, i) => encodePacket('B', Buffer.from(String(i % 10))))));
    for (let i = 0; i < n; i++) assert.deepEqual(await m.read(), { type: 'continue' }, `reply ${i}`);
  } finally {
    net.Socket.prototype.write = write;
  }
  // A write per reply is a request object per packet that a peer not reading makes pile up.
  assert.ok(writes >= 1 && writes <= 10, `${n} replies took ${writes} writes`);
  assert.deepEqual(await m.decision({ type: 'eom', chunk: Buffer.alloc(0) }), { type: 'replycode', reply: `550 5.7.1 body ${n}` });
  await m.quit();
});

test('a half-sent packet and an idle connection are closed after their timeouts', async () => {
  const server = await serve({}, { timeouts: { packetMs: 100, idleMs: 300 } });
  const slow = await FakeMta.connect(server.port ?? 0);
  await slow.negotiate();
  slow.sendRaw(encodePacket('H', Buffer.from('host\0')).subarray(0, 6));
  const t0 = Date.now();
  await slow.closed;
  assert.ok(Date.now() - t0 < 1000);
  const idle = await FakeMta.connect(server.port ?? 0);
  await idle.negotiate();
  const t1 = Date.now();
  await idle.closed;
  assert.ok(Date.now() - t1 >= 250, 'not closed before the idle timeout');
});

test('issue #21 item 2: an MTA that sends body chunks and never reads the replies is no longer read, then closed after the idle timeout', async () => {
  const server = await serve({}, { timeouts: { idleMs: 500 } });
  const socket = net.connect({ host: '127.0.0.1', port: server.port ?? 0 });
  socket.on('error', () => {});
  // Never read: the replies stay in the kernel's buffers, then in the server's.
  socket.pause();
  await new Promise((resolve) => socket.once('connect', resolve));
  const open = [
    encodeCommand({ type: 'optneg', version: 6, actions: 0x1ff, protocol: 0 }),
    encodeCommand({ type: 'connect', hostname: 'flood.test', family: 'inet', port: 40000, address: '127.0.0.1' }),
    encodeCommand({ type: 'mail', args: ['<flood@x.fr>'] }),
  ];
  socket.write(Buffer.concat(open));
  const chunk = Buffer.concat(Array.from({ length: 10_000 }, () => encodeCommand({ type: 'body', chunk: Buffer.from('x') })));
  // Write until the server stops taking bytes (nothing taken for 2 s: it waits for us to read
  // its replies, once they fill the kernel's buffers), at most 64 MB.
  let stalledAt = 0;
  for (let written = 0; written < 64 * 1024 * 1024 && !socket.destroyed; written += chunk.length) {
    if (socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 2000);
      socket.once('drain', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!drained) {
      stalledAt = Date.now();
      break;
    }
  }
  assert.ok(stalledAt > 0, 'the server kept reading a peer that does not read its replies');
  // Closed once the server has worked through what it took (slow on a loaded machine) and then
  // waited idleMs for us to read; before, a session waiting for its peer to read waited forever.
  // Seen from the server: this paused client, which no longer writes, would not notice a close.
  // (Within 20 s: the packet timer, 30 s, is not what should close it.)
  const deadline = Date.now() + 20_000;
  while (server.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.connections, 0, 'the session still waits for its peer 20 s after the stall');
  console.log(`closed ${Date.now() - stalledAt} ms after the stall`);
  socket.destroy();
});

test('the handler sees close once per connection, and stop() closes connections and the listener', async () => {
  let closes = 0;
  const contexts = new Set<SessionContext>();
  const server = await serve({
    close: (ctx) => {
      closes++;
      contexts.add(ctx);
    },
  });
  const a = await mta(server);
  const b = await mta(server);
  await a.quit();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closes, 1);
  await server.stop(100);
  await b.closed;
  assert.equal(closes, 2);
  assert.equal(contexts.size, 2);
  await assert.rejects(FakeMta.connect(server.port ?? 1));
});

test('a unix socket listener gets the configured mode and replaces a stale socket file', async () => {
  const dir = tmpDir();
  const sock = path.join(dir, 'milter.sock');
  const first = new MilterServer({ listen: { kind: 'unix', path: sock }, handler: {}, log, socketMode: 0o666 });
  await first.start();
  assert.equal(fs.statSync(sock).mode & 0o777, 0o666);
  const clash = new MilterServer({ listen: { kind: 'unix', path: sock }, handler: {}, log });
  await assert.rejects(clash.start(), /another process is listening/);
  const m = await FakeMta.connect(sock);
  await m.negotiate();
  assert.equal(m.agreed.version, 6);
  await m.quit();
  await first.stop(100);
  // A leftover file, as a killed process leaves it, is replaced.
  assert.equal(fs.existsSync(sock), false, 'a clean stop removes the socket');
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(fs.lstatSync(sock).isSocket(), true);
  const second = new MilterServer({ listen: { kind: 'unix', path: sock }, handler: {}, log });
  await second.start();
  servers.push(second);
  assert.equal(fs.statSync(sock).mode & 0o777, 0o660);
});

test('issue 20: an async decision that rejects, resolves to garbage or comes too late temp-fails the message; the late one is dropped and the next message is judged', async () => {
  let late = 0;
  const server = await serve(
    {
      rcpt: async (_ctx, r) => {
        await new Promise((res) => setImmediate(res));
        if (r.address === 'reject@x.fr') throw new Error('store unreachable');
        if (r.address === 'garbage@x.fr') return { action: 'maybe' } as never;
        if (r.address === 'late@x.fr') {
          await new Promise((res) => setTimeout(res, 400));
          late++;
          return decide.reject();
        }
        return undefined;
      },
      eom: async () => decide.continue(),
    },
    { timeouts: { handlerMs: 100 } },
  );
  for (const bad of ['reject', 'garbage', 'late']) {
    const m = await mta(server);
    await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
    assert.deepEqual(await m.decision({ type: 'rcpt', args: [`<${bad}@x.fr>`] }), { type: 'tempfail' }, bad);
    assert.deepEqual(await m.decision({ type: 'eom', chunk: Buffer.alloc(0) }), { type: 'tempfail' }, bad);
    await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
    assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<fine@x.fr>'] }), { type: 'continue' }, bad);
    assert.deepEqual(await m.decision({ type: 'eom', chunk: Buffer.alloc(0) }), { type: 'continue' }, bad);
    if (bad === 'late') {
      // The handler's own decision arrives after the timeout answered: nothing more is sent.
      const deadline = Date.now() + 5000;
      while (late === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      assert.equal(late, 1);
      await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
      assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<fine@x.fr>'] }), { type: 'continue' });
    }
    await m.quit();
  }
});

test('issue 20: each connection gets the agreement for its own offer (agreements are remembered per offer, not shared blindly)', async () => {
  const server = await serve({ rcpt: () => undefined, eom: () => decide.continue() });
  const full = await FakeMta.connect(server.port ?? 0);
  await full.negotiate();
  // An older MTA: version 2, no macro lists, no no-reply steps offered.
  const old = await FakeMta.connect(server.port ?? 0);
  await old.negotiate({ version: 2, actions: Action.ADDHDRS, protocol: 0 });
  const again = await FakeMta.connect(server.port ?? 0);
  await again.negotiate();
  assert.equal(full.agreed.version, 6);
  assert.equal(old.agreed.version, 2);
  assert.equal(old.agreed.protocol, 0, 'nothing the old MTA did not offer');
  assert.deepEqual(old.agreed.macros, {}, 'no macro lists without SMFIF_SETSYMLIST');
  assert.ok((full.agreed.protocol & Proto.NR_CONN) !== 0 && (full.agreed.protocol & Proto.NR_RCPT) === 0);
  assert.ok(Object.keys(full.agreed.macros).length > 0);
  assert.deepEqual(again.agreed, full.agreed);
  for (const m of [full, old, again]) await m.quit();
});

test('issue 20: a connection logs with its own id, made when it first logs', async () => {
  const { log: captured, lines } = captureLogger('debug');
  const server = await serve({ eom: () => decide.continue() }, { log: captured });
  const quiet = await FakeMta.connect(server.port ?? 0);
  await quiet.negotiate();
  const noisy = await FakeMta.connect(server.port ?? 0);
  await noisy.negotiate();
  noisy.sendRaw(encodePacket('O', Buffer.alloc(12)));
  const deadline = Date.now() + 5000;
  while (!lines.some((l) => l.includes('closing milter connection')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  const closing = lines.map((l) => JSON.parse(l) as { msg: string; milter?: string; peer?: string }).find((l) => l.msg === 'closing milter connection');
  assert.ok(closing, 'the second negotiation is logged');
  assert.match(closing.milter ?? '', /^m[0-9a-z]+$/);
  assert.match(closing.peer ?? '', /^127\.0\.0\.1:\d+$/);
  const negotiated = lines.map((l) => JSON.parse(l) as { msg: string; milter?: string }).filter((l) => l.msg === 'milter negotiated');
  assert.equal(new Set(negotiated.map((l) => l.milter)).size, 2, 'each connection its own id');
  await quiet.quit();
});

test('issue 20: header edits belong to their message: sent only when it goes on, refused once its decision is taken, even through a kept context', async () => {
  const kept: EomContext[] = [];
  const server = await serve({
    eom(ctx) {
      kept.push(ctx);
      ctx.addHeader('X-MSS-Checked', String(kept.length));
      assert.equal(ctx.queueId, 'Q1');
      assert.equal(ctx.message.header('subject'), 'hi');
      return kept.length === 2 ? decide.reject() : undefined;
    },
  });
  const m = await mta(server);
  for (const expected of [[{ type: 'addheader', name: 'X-MSS-Checked', value: '1' }, { type: 'continue' }], [{ type: 'reject' }]]) {
    await m.event({ type: 'mail', args: ['<a@x.fr>'] }, { i: 'Q1' });
    await m.event({ type: 'rcpt', args: ['<b@x.fr>'] });
    await m.event({ type: 'header', name: 'Subject', value: 'hi' });
    assert.deepEqual(await m.event({ type: 'eom', chunk: Buffer.alloc(0) }, { i: 'Q1' }), expected);
  }
  assert.throws(
    () => kept[0]?.addHeader('X-Late', 'no'),
    (e: Error & { code?: string }) => e.code === 'MILTER_ACTION_UNAVAILABLE',
  );
  assert.throws(
    () => kept[1]?.insertHeader(0, 'X-Late', 'no'),
    (e: Error & { code?: string }) => e.code === 'MILTER_ACTION_UNAVAILABLE',
  );
  await m.quit();
});

test('issue 20: the idle timeout counts from the last read or write: a connection active every idleMs/3 stays open past idleMs, a handler deciding for longer than idleMs is not cut off, and an idle one is closed idleMs after its last reply', async () => {
  const idleMs = 300;
  const server = await serve(
    {
      mail: () => undefined,
      rcpt: async (_ctx, r) => {
        if (r.address === 'slow@x.fr') await new Promise((res) => setTimeout(res, 2 * idleMs));
      },
    },
    { timeouts: { idleMs, handlerMs: 5000 } },
  );
  const m = await mta(server);
  let closed = false;
  void m.closed.then(() => (closed = true));
  const t0 = Date.now();
  // Commands every idleMs/3 for 2 × idleMs: reads (and the replies written) keep it open.
  while (Date.now() - t0 < 2 * idleMs) {
    await new Promise((res) => setTimeout(res, idleMs / 3));
    assert.deepEqual(await m.decision({ type: 'mail', args: ['<a@x.fr>'] }), { type: 'continue' });
    await m.event({ type: 'abort' });
  }
  assert.equal(closed, false, 'closed while the MTA kept sending commands');
  await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
  // The handler takes 2 × idleMs: its reply still comes (the session owes it, so it is not idle).
  assert.deepEqual(await m.decision({ type: 'rcpt', args: ['<slow@x.fr>'] }), { type: 'continue' });
  const replied = Date.now();
  assert.equal(closed, false, 'closed while the handler was deciding');
  await Promise.race([m.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('the idle connection was not closed')), 10 * idleMs))]);
  assert.ok(Date.now() - replied >= idleMs - 50, `closed ${Date.now() - replied} ms after its last reply, before idleMs`);
});

test('issue 20: no per-connection logger is made for a connection that logs nothing (negotiation logs only at debug level)', async () => {
  const base = createLogger({ level: 'info', pretty: false, destination: new (await import('node:stream')).PassThrough() });
  let children = 0;
  const child = base.child.bind(base);
  base.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof base.child;
  const server = await serve({ eom: () => decide.continue() }, { log: base });
  for (let i = 0; i < 3; i++) {
    const m = await mta(server);
    assert.deepEqual((await runTransaction(m, { sender: 'a@x.fr', recipients: ['b@x.fr'] })).eom, [{ type: 'continue' }]);
    await m.quit();
  }
  assert.equal(children, 0, 'a child logger was made for connections that logged nothing');
});

test("issue 20: a connection ends once the handler's close callback is done — an async one is awaited by stop() — and between transactions the context holds no message", async () => {
  const seen: Array<{ kind: string; sender: string | undefined; recipients: number; headers: number; bodyBytes: number }> = [];
  let asyncClosed = false;
  const server = await serve({
    helo: () => undefined,
    mail: () => undefined,
    rcpt: () => undefined,
    eom: () => decide.continue(),
    abort: (ctx) =>
      void seen.push({
        kind: 'abort',
        sender: ctx.message.sender?.address,
        recipients: ctx.message.recipients.length,
        headers: ctx.message.headers.length,
        bodyBytes: ctx.message.bodyBytes,
      }),
    close: async (ctx) => {
      seen.push({
        kind: 'close',
        sender: ctx.message.sender?.address,
        recipients: ctx.message.recipients.length,
        headers: ctx.message.headers.length,
        bodyBytes: ctx.message.bodyBytes,
      });
      await new Promise((res) => setTimeout(res, 150));
      asyncClosed = true;
    },
  });
  const m = await mta(server);
  for (let i = 0; i < 2; i++)
    await runTransaction(m, { sender: `s${i}@x.fr`, recipients: ['b@x.fr', 'c@x.fr'], headers: [['Subject', 'x']], body: 'hello\r\n' });
  // An abort after an end of message: the handler sees the empty message, not the last one.
  await m.event({ type: 'abort' });
  // The next transaction starts from nothing: one recipient, not three.
  await m.decision({ type: 'mail', args: ['<t@x.fr>'] });
  await m.decision({ type: 'rcpt', args: ['<d@x.fr>'] });
  await m.event({ type: 'abort' });
  // Answered only once the abort before it is handled.
  assert.deepEqual(await m.decision({ type: 'helo', name: 'again' }), { type: 'continue' });
  assert.equal(server.connections, 1);
  await server.stop(100);
  assert.equal(asyncClosed, true, "stop() returned before the handler's async close callback was done");
  assert.equal(server.connections, 0);
  assert.deepEqual(seen, [
    { kind: 'abort', sender: undefined, recipients: 0, headers: 0, bodyBytes: 0 },
    { kind: 'abort', sender: 't@x.fr', recipients: 1, headers: 0, bodyBytes: 0 },
    { kind: 'close', sender: undefined, recipients: 0, headers: 0, bodyBytes: 0 },
  ]);
});

test('issue 20: refusals are sent with their own texts, encoded when decide.reply checked them: a reply changed afterwards is sent as checked, a hand-built one is checked when sent', async () => {
  const changed = decide.reply(550, '5.7.1', 'refused') as Extract<Decision, { action: 'reply' }>;
  (changed.reply as { text: string }).text = 'changed\r\n250 2.0.0 injected';
  const server = await serve({
    mail: (_ctx, s) =>
      s.address === 'changed@x.fr'
        ? changed
        : s.address === 'hand@x.fr'
          ? ({ action: 'reply', reply: { code: 550, status: '5.7.1', text: 'hand\r\n250 2.0.0 injected' } } as Decision)
          : undefined,
    rcpt: (_ctx, r) => (r.address.startsWith('no') ? decide.reply(550, '5.7.1', `refused ${r.address} 100%`) : undefined),
  });
  const m = await mta(server);
  await m.event({ type: 'mail', args: ['<a@x.fr>'] });
  for (const r of ['no1@x.fr', 'yes@x.fr', 'no2@x.fr', 'no1@x.fr'])
    assert.deepEqual(
      await m.decision({ type: 'rcpt', args: [`<${r}>`] }),
      r.startsWith('no') ? { type: 'replycode', reply: `550 5.7.1 refused ${r} 100%%` } : { type: 'continue' },
    );
  await m.event({ type: 'abort' });
  // The text changed after the check never reaches the wire: the checked one does.
  assert.deepEqual(await m.decision({ type: 'mail', args: ['<changed@x.fr>'] }), { type: 'replycode', reply: '550 5.7.1 refused' });
  await m.event({ type: 'abort' });
  // A reply built by hand with a line break is refused at the wire: the message is temp-failed.
  assert.deepEqual(await m.decision({ type: 'mail', args: ['<hand@x.fr>'] }), { type: 'tempfail' });
  await m.quit();
});

test('issue 20: an async abort callback is waited for before the next command, a sync one is not', async () => {
  const order: string[] = [];
  const server = await serve({
    mail: (_ctx, s) => void order.push(`mail ${s.address}`),
    abort: (ctx) => {
      if (ctx.message.sender?.address !== 'slow@x.fr') return void order.push('abort');
      return new Promise<void>((res) =>
        setTimeout(() => {
          order.push('slow abort done');
          res();
        }, 100),
      );
    },
  });
  const m = await mta(server);
  await m.decision({ type: 'mail', args: ['<slow@x.fr>'] });
  await m.event({ type: 'abort' });
  await m.decision({ type: 'mail', args: ['<a@x.fr>'] });
  await m.event({ type: 'abort' });
  await m.decision({ type: 'mail', args: ['<b@x.fr>'] });
  assert.deepEqual(order, ['mail slow@x.fr', 'slow abort done', 'mail a@x.fr', 'abort', 'mail b@x.fr']);
  await m.quit();
});

test('issue 20: SMFIC_QUIT closes the connection at once (every reply sent), without waiting for the MTA to close its end first', async () => {
  let closed!: () => void;
  const handlerClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = await serve({ eom: () => decide.continue(), close: () => closed() });
  // allowHalfOpen: this end does not close itself when the milter's EOF comes (a client that does would end the connection either way).
  const socket = net.connect({ port: server.port ?? 0, host: '127.0.0.1', allowHalfOpen: true });
  const got: Buffer[] = [];
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  socket.on('data', (b: Buffer) => void got.push(b));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  // The negotiation and QUIT in one write; this end stays open (no FIN).
  socket.write(Buffer.concat([encodeCommand({ type: 'optneg', ...POSTFIX_V6_OFFER }), encodeCommand({ type: 'quit' })]));
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
  try {
    assert.notEqual(
      await Promise.race([Promise.all([handlerClosed, ended]).then(() => 'closed'), timeout]),
      'timeout',
      'the milter waited for the MTA to close its end',
    );
    assert.equal(Buffer.concat(got)[4], 'O'.charCodeAt(0), 'the negotiation reply was sent before the close');
    assert.equal(server.connections, 0);
  } finally {
    socket.destroy();
  }
});
