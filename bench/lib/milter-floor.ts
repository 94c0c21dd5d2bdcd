// The FLOOR engine of bench/milter.ts (BENCH_FLOOR=1): the least a Node milter can do for
// the benchmark's messages on the same transport, to tell the milter's own cost from what
// any Node 20 milter pays on this machine (sockets, event loop, the load generator beside
// it). It speaks the protocol only: SMFIC_OPTNEG answered with the agreement the submission
// rules get (src/milter/negotiation.ts with the same wanted steps, so the MTA waits for the
// same 12 replies per message: MAIL, 10 RCPT, EOM), then SMFIR_CONTINUE to every
// awaited command and SMFIR_ACCEPT at end of message. No rules, macros, journal or trace;
// replies are pre-encoded buffers, the replies a read completes leave in one write (as the
// real session's drain pass does), the connection is closed at once on SMFIC_QUIT (as the
// real session does). Not a milter to run anywhere else: it trusts its peer.
// A process of its own, driven over IPC like milter-process.ts: it sends { port } when
// listening (BENCH_MILTER_SOCKET: a unix socket path instead of loopback TCP) and exits on 'stop'.
import fs from 'node:fs';
import net from 'node:net';
import { Cmd, Resp } from '../../src/milter/constants.js';
import { encodePacket } from '../../src/milter/framing.js';
import { agree, encodeAgreement, REQUESTED_MACROS, type Agreement } from '../../src/milter/negotiation.js';

const SOCKET = process.env.BENCH_MILTER_SOCKET;
const CONTINUE = encodePacket(Resp.CONTINUE);
const ACCEPT = encodePacket(Resp.ACCEPT);
const OPTNEG = Cmd.OPTNEG.charCodeAt(0);
const EOM = Cmd.BODYEOB.charCodeAt(0);
const QUIT = Cmd.QUIT.charCodeAt(0);

/**
 * What the submission rules answer (src/submission/handler.ts: mail, rcpt, eom; no header
 * added). No `eoh` since the headers are judged at end of message (issue 20): with
 * Postfix's offer, 12 awaited replies per message (MAIL, 10 RCPT, EOM).
 */
const WANTED = { connect: false, helo: false, mail: true, rcpt: true, data: false, header: false, eoh: false, addHeaders: false, macros: REQUESTED_MACROS };

/** The agreement for an offer, computed once per distinct offer (the generator always sends Postfix's). */
const agreements = new Map<string, { reply: Buffer; awaited: Uint8Array }>();
function agreementFor(offer: Buffer): { reply: Buffer; awaited: Uint8Array } {
  const key = offer.toString('hex', 0, 12);
  let a = agreements.get(key);
  if (!a) {
    const agreement: Agreement = agree({ version: offer.readUInt32BE(0), actions: offer.readUInt32BE(4), protocol: offer.readUInt32BE(8) }, WANTED);
    const awaited = new Uint8Array(256);
    for (const code of agreement.replyExpected) awaited[code.charCodeAt(0)] = 1;
    awaited[EOM] = 1;
    a = { reply: encodeAgreement(agreement, REQUESTED_MACROS), awaited };
    agreements.set(key, a);
  }
  return a;
}

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  let held: Buffer | undefined;
  let awaited: Uint8Array | undefined;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    const buf = held ? Buffer.concat([held, chunk]) : chunk;
    held = undefined;
    let at = 0;
    let out: Buffer | Buffer[] | undefined;
    const reply = (b: Buffer): void => {
      if (out === undefined) out = b;
      else if (Array.isArray(out)) out.push(b);
      else out = [out, b];
    };
    while (buf.length - at >= 5) {
      const length = buf.readUInt32BE(at);
      if (buf.length - at < 4 + length) break;
      const code = buf[at + 4] as number;
      if (code === OPTNEG) {
        const a = agreementFor(buf.subarray(at + 5, at + 4 + length));
        awaited = a.awaited;
        reply(a.reply);
      } else if (code === QUIT) {
        // Closed at once, as the real session does since 2026-12-07 (no half-close).
        socket.destroy();
        return;
      } else if (awaited?.[code]) reply(code === EOM ? ACCEPT : CONTINUE);
      at += 4 + length;
    }
    if (at < buf.length) held = buf.subarray(at);
    if (out !== undefined) socket.write(Array.isArray(out) ? Buffer.concat(out) : out);
  });
}

const server = net.createServer(serve);
if (SOCKET) {
  fs.rmSync(SOCKET, { force: true });
  server.listen(SOCKET, () => process.send?.({ port: 0 }));
} else server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
process.on('message', (msg: string) => {
  if (msg === 'take') process.send?.({ decisionsNs: [] });
  // The generator has closed its connections; nothing to drain.
  if (msg === 'stop') process.exit(0);
});
