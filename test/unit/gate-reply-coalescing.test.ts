// The gates' reply coalescing (src/gate/reply-coalescing.ts, issue 20) on a real smtp-server
// over loopback: the replies to a pipelined batch leave in one write, in order and complete;
// a STARTTLS pipelined behind EHLO still gets its 220 before the handshake.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { coalesceReplies } from '../../src/gate/reply-coalescing.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const servers: SMTPServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
});

/** Counts the system-call-level writes of each socket the server accepts. */
function countWrites(server: SMTPServer): { writes: number } {
  const counter = { writes: 0 };
  server.server.on('connection', (socket: net.Socket) => {
    const handle = (socket as unknown as { _handle: Record<string, (...a: unknown[]) => unknown> })._handle;
    for (const m of ['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']) {
      const original = handle[m];
      if (typeof original !== 'function') continue;
      handle[m] = function (this: unknown, ...args: unknown[]) {
        counter.writes++;
        return original.apply(this, args);
      };
    }
  });
  return counter;
}

async function listen(server: SMTPServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.server.address() as net.AddressInfo).port;
}

/** A raw client: everything received, and a wait for a pattern in it. */
function rawClient(socket: net.Socket | tls.TLSSocket): { text: () => string; until: (re: RegExp) => Promise<string> } {
  let received = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (b: Buffer) => {
    received += b.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  return {
    text: () => received,
    until: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within 20 s; received: ${JSON.stringify(received)}`)), 20_000);
        const check = (): void => {
          if (re.test(received)) {
            clearTimeout(timer);
            resolve(received);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

function lmtpServer(): SMTPServer {
  return new SMTPServer({
    lmtp: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideSTARTTLS: true,
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    // As the gates judge: the outbound gate synchronously, the inbound gate in a promise.
    onMailFrom: (_a, _s, cb) => cb(),
    onRcptTo: (_a, _s, cb) => void Promise.resolve().then(() => cb()),
    onData: (stream, _session, cb) => {
      stream.resume();
      stream.on('end', () => (cb as (err: Error | null, results: unknown) => void)(null, ['2.0.0 first taken', '2.0.0 second taken']));
    },
  });
}

test("gates: the replies to a pipelined MAIL/RCPT/RCPT/DATA batch leave in one write, and LMTP's per-recipient replies after the dot in one more (issue 20)", async () => {
  const server = lmtpServer();
  coalesceReplies(server);
  const counter = countWrites(server);
  const port = await listen(server);
  const socket = net.connect(port, '127.0.0.1');
  const c = rawClient(socket);
  try {
    await c.until(/^220 /m);
    socket.write('LHLO client.example\r\n');
    await c.until(/^250 [^\r]*\r\n/m);
    const before = counter.writes;
    socket.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n');
    const upToData = await c.until(/^354 /m);
    assert.equal(counter.writes - before, 1, 'MAIL, RCPT, RCPT and DATA answered in one write');
    const replies = upToData.split('\r\n').filter((l) => /^(250|354) /.test(l));
    assert.deepEqual(
      replies.slice(-4).map((l) => l.slice(0, 3)),
      ['250', '250', '250', '354'],
    );
    const beforeDot = counter.writes;
    socket.write('Subject: t\r\n\r\nhello\r\n.\r\n');
    const all = await c.until(/second taken\r\n/);
    assert.match(all, /250 2\.0\.0 first taken\r\n250 2\.0\.0 second taken\r\n$/);
    assert.equal(counter.writes - beforeDot, 1, "both recipients' replies in one write");
  } finally {
    socket.destroy();
  }
});

test('gates: with reply coalescing, EHLO and STARTTLS pipelined still get 250 then 220 in clear before the TLS handshake, and the session goes on over TLS (issue 20)', async () => {
  const cert = selfSignedCert(tmpDir('mss-coalesce-'));
  const server = new SMTPServer({ key: cert.key, cert: cert.cert, disabledCommands: ['AUTH'], authOptional: true, disableReverseLookup: true, logger: false });
  coalesceReplies(server);
  const port = await listen(server);
  const socket = net.connect(port, '127.0.0.1');
  const c = rawClient(socket);
  let secure: tls.TLSSocket | undefined;
  try {
    await c.until(/^220 /m);
    socket.write('EHLO client.example\r\nSTARTTLS\r\n');
    const clear = await c.until(/^220 [^\r]*TLS[^\r]*\r\n/m);
    assert.match(clear, /^250 [^\r]*\r\n220 /m, 'the EHLO reply, then the go-ahead');
    socket.removeAllListeners('data');
    secure = tls.connect({ socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure?.once('secureConnect', () => resolve()).once('error', reject));
    const s = rawClient(secure);
    secure.write('EHLO client.example\r\n');
    await s.until(/^250 [^\r]*\r\n/m);
    secure.write('QUIT\r\n');
    await s.until(/^221 /m);
  } finally {
    secure?.destroy();
    socket.destroy();
  }
});
