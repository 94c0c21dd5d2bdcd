// A lean MTA-side load generator for the direct phase: each message is a new milter
// connection carrying what Postfix sends for one SMTP session (negotiation, connect, HELO,
// MAIL, 10 RCPT, DATA, headers, EOH, body, EOM, QUIT), with the bytes of every step
// encoded once in advance and macros sent in the same write as their event, and replies
// only counted. The MilterClient of the tests decodes and checks everything, which makes
// the client, not the milter, the bottleneck. bench/milter.ts encodes each worker's messages
// once, before the measured phases (messageSteps), and replays them.
import net from 'node:net';
import { encodeCommand, type MilterCommand } from '../../src/milter/commands.js';
import { Proto, Resp } from '../../src/milter/constants.js';
import { POSTFIX_V6_OFFER } from '../../src/milter/mta-client.js';

interface Step {
  bytes: Buffer;
  /** Replies the milter sends for this step (0 for no-reply steps under our negotiation). */
  replies: number;
  /** Count this step as a decision (MAIL, RCPT, EOH, EOM) for latency. */
  decision: boolean;
  /**
   * The end-of-headers step: answered only when the milter's agreement asks for the reply
   * (no SMFIP_NR_EOH); otherwise it leaves in one write with the next step, as nothing
   * waits for it. The submission rules judge the headers at end of message (issue 20).
   */
  eoh?: boolean;
  /** This step's bytes and the next step's, for a milter that does not answer it. */
  withNext?: Buffer;
}

function step(cmds: MilterCommand[], replies: number, decision = false): Step {
  return { bytes: Buffer.concat(cmds.map(encodeCommand)), replies, decision };
}

const OPTNEG_REPLY = Resp.OPTNEG.charCodeAt(0);

/**
 * The steps of one message as Postfix sends them to the submission rules: events the rules
 * do not answer (connect, HELO, DATA, headers, body) travel with the next answered one.
 */
export function messageSteps(rcpts: string[], queueId: string, sender: string): Step[] {
  const m = (forCode: string, macros: Array<[string, string]>): MilterCommand => ({ type: 'macro', for: forCode, macros });
  return [
    step([{ type: 'optneg', ...POSTFIX_V6_OFFER }], 1),
    step(
      [
        m('C', [['{client_addr}', '127.0.0.1']]),
        { type: 'connect', hostname: 'lps', family: 'inet', port: 4000, address: '127.0.0.1' },
        { type: 'helo', name: 'lps' },
        m('M', [
          ['i', queueId],
          ['{auth_authen}', sender],
          ['{auth_type}', 'XOAUTH2'],
        ]),
        { type: 'mail', args: [`<${sender}>`] },
      ],
      1,
      true,
    ),
    ...rcpts.map((r) => step([m('R', [['{rcpt_addr}', r]]), { type: 'rcpt', args: [`<${r}>`] }], 1, true)),
    {
      ...step(
        [
          m('T', [['i', queueId]]),
          { type: 'data' },
          { type: 'header', name: 'From', value: `<${sender}>` },
          { type: 'header', name: 'Subject', value: 'bench' },
          { type: 'header', name: 'X-MSS-NIL', value: '<bench/lps/1>' },
          { type: 'eoh' },
        ],
        1,
        true,
      ),
      eoh: true,
    },
    step([{ type: 'body', chunk: Buffer.from('hello\r\n') }, m('E', [['i', queueId]]), { type: 'eom', chunk: Buffer.alloc(0) }], 1, true),
  ];
}

const QUIT = encodeCommand({ type: 'quit' });
const REPLYCODE = Resp.REPLYCODE.charCodeAt(0);

/** A loopback TCP port (BENCH_TRANSPORT=tcp), or a unix socket's path (the milters' default). */
export type EngineAddress = number | string;

export const connectTo = (address: EngineAddress): net.Socket => (typeof address === 'string' ? net.connect(address) : net.connect(address, '127.0.0.1'));

/**
 * Run one message on a new connection; resolves with the number of refusals (SMFIR_REPLYCODE)
 * and adds each decision's round trip (ns) to `latencies`. Lean on purpose (bench/milter.ts,
 * fairness notes): the steps come pre-encoded, and replies are only cut by their length
 * and counted, with no packet object, no decoder and no copy unless a reply arrives split
 * across reads — the policy client of postfwd (policy-client.ts) is built the same way.
 */
export function runMessage(address: EngineAddress, steps: Step[], latencies: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTo(address);
    socket.setNoDelay(true);
    let held: Buffer | undefined;
    let index = 0;
    let awaiting = 0;
    let sent = 0n;
    let refusals = 0;
    /** The agreement leaves out the reply at end of headers (SMFIP_NR_EOH). */
    let eohUnanswered = false;
    const next = (): void => {
      const s = steps[index];
      if (!s) {
        socket.end(QUIT);
        resolve(refusals);
        return;
      }
      const following = steps[index + 1];
      if (s.eoh && eohUnanswered && following) {
        index++;
        awaiting = following.replies;
        sent = process.hrtime.bigint();
        socket.write((s.withNext ??= Buffer.concat([s.bytes, following.bytes])));
        return;
      }
      awaiting = s.replies;
      sent = process.hrtime.bigint();
      socket.write(s.bytes);
    };
    socket.on('connect', next);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      const buf = held ? Buffer.concat([held, chunk]) : chunk;
      held = undefined;
      let at = 0;
      while (buf.length - at >= 5) {
        const end = at + 4 + buf.readUInt32BE(at);
        if (end > buf.length) break;
        if (buf[at + 4] === REPLYCODE) refusals++;
        else if (buf[at + 4] === OPTNEG_REPLY && end - at >= 17) eohUnanswered = (buf.readUInt32BE(at + 13) & Proto.NR_EOH) !== 0;
        at = end;
        if (--awaiting === 0) {
          if (steps[index]?.decision) latencies.push(Number(process.hrtime.bigint() - sent));
          index++;
          next();
        }
      }
      if (at < buf.length) held = buf.subarray(at);
    });
  });
}
