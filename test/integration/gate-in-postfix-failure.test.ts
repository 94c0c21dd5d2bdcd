// Issue [gates] scope 4: the inbound gate answers the remote 250 only after Postfix answered
// 250. Here a stand-in for Postfix's gate listener (a scripted SMTP server on loopback, in
// place of gates.in.postfix) accepts the whole transaction and then fails at the final dot:
// it drops the connection, answers 421, or answers 452. The remote must get 451 4.3.0 each
// time, and nothing may be accepted anywhere.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectTls, send, type Identity } from '../helpers/gate-client.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { freePort } from '../helpers/ports.js';
import { message } from '../helpers/smtp-client.js';
import { traceLines } from '../helpers/traces.js';

type AtDot = 'drop' | '421' | '452';

/** Postfix's gate listener as the gate sees it (EHLO with XCLIENT), failing at the final dot. */
class FailingPostfix {
  atDot: AtDot = 'drop';
  /** Final dots received (it never answers one with 250). */
  dots = 0;
  private readonly server: net.Server;

  constructor() {
    this.server = net.createServer((socket) => {
      let buffer = '';
      let inData = false;
      const reply = (line: string): boolean => socket.write(`${line}\r\n`);
      socket.on('error', () => undefined);
      reply('220 stand-in ESMTP');
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('latin1');
        let i: number;
        while ((i = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (inData) {
            if (line !== '.') continue;
            inData = false;
            this.dots++;
            if (this.atDot === 'drop') {
              socket.destroy();
              return;
            }
            if (this.atDot === '421') {
              reply('421 4.3.2 Service shutting down, closing transmission channel');
              socket.end();
              return;
            }
            reply('452 4.3.1 Insufficient system storage');
            continue;
          }
          const verb = line.split(' ')[0]?.toUpperCase() ?? '';
          if (verb === 'EHLO') reply('250-stand-in\r\n250-PIPELINING\r\n250-SIZE 10551296\r\n250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n250 8BITMIME');
          else if (verb === 'XCLIENT') reply('220 stand-in ESMTP');
          else if (verb === 'DATA') {
            inData = true;
            reply('354 End data with <CR><LF>.<CR><LF>');
          } else if (verb === 'QUIT') {
            reply('221 2.0.0 Bye');
            socket.end();
            return;
          } else reply('250 2.0.0 Ok');
        }
      });
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let world: TestWorld;
let standIn: FailingPostfix;
let A: Identity;
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';

before(async () => {
  standIn = new FailingPostfix();
  const standInPort = await freePort();
  await standIn.listen(standInPort);
  world = await gateWorld({
    mta: 'none',
    operators: ['B'],
    configure: (_op, c) => {
      c.gates = { ...c.gates, in: { ...c.gates?.in, postfix: { ...c.gates?.in?.postfix, host: '127.0.0.1', port: standInPort } } };
    },
  });
  assert.equal(world.node('B').config.gates.in.postfix.port, standInPort);
  const a = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(a);
  A = { cert: a.cert, key: a.key };
});
after(async () => {
  await world?.stop();
  await standIn?.close();
});

function temporaryTraces(records: Record<string, unknown>[]): number {
  return records.filter((x) => x.action === 'message.receive' && (x.response as { message?: string }).message?.startsWith('451 4.3.0')).length;
}

for (const atDot of ['drop', '421', '452'] as const) {
  const what = atDot === 'drop' ? 'drops the connection' : `answers ${atDot}`;
  test(`DESIGN principle 1 (issue [gates] scope 4): Postfix ${what} at the final dot → the remote gets 451 4.3.0, never 250, and nothing is accepted`, async () => {
    standIn.atDot = atDot;
    const dotsBefore = standIn.dots;
    const temporaryBefore = temporaryTraces(traceLines(path.join(world.node('B').config.state.dir, 'traces')));
    const subject = `postfix fails at dot (${atDot})`;
    const { c, afterTls } = await connectTls(world.node('B').config.gates.in.listen.host, world.port, A);
    assert.equal(afterTls.code, 250, afterTls.text);
    const r = await send(c, ALICE, [BRUNO], message({ from: ALICE, to: [BRUNO], subject }));
    assert.equal(r.mail.code, 250, r.mail.text);
    assert.equal(r.rcpts[0]?.code, 250, r.rcpts[0]?.text);
    assert.equal(r.data?.code, 451, r.data?.text);
    assert.match(r.data?.text ?? '', /^4\.3\.0 Mail system of \S+ temporarily unavailable/);
    // The gate's session with Postfix is gone, not the remote's: the next try is served again.
    assert.equal((await c.command('RSET')).code, 250);
    await c.quit();
    assert.equal(standIn.dots, dotsBefore + 1, 'the stand-in received the whole message and the final dot');
    const records = traceLines(path.join(world.node('B').config.state.dir, 'traces'));
    assert.equal(temporaryTraces(records), temporaryBefore + 1, 'the temporary refusal is traced');
    assert.ok(
      !records.some((x) => (x.response as { ok?: boolean }).ok && (x.message as { subject?: string } | undefined)?.subject === subject),
      'no reception is traced',
    );
  });
}
