// What the gates write down: a functional trace for every decision on a message or a
// session (EX_GDT_5040/5050: who, when, from where, what was asked, what was answered,
// failures included), and message events for the statistics (journal, events.ts).
import type { Logger } from '../log.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { TraceMessage } from '../traces/record.js';
import { formatReply, type Refusal, type Reply } from './reply.js';

export type GateService = 'gate-in' | 'gate-out';

export interface TraceContext {
  service: GateService;
  /** DN of the peer connector, when known. */
  peer?: string;
  /** Network address of the peer (IP:port). */
  address?: string;
}

/** The action names: what the gate did with the message (see docs/gates.md). */
const ACTION: Record<GateService, string> = { 'gate-in': 'message.receive', 'gate-out': 'message.send' };

/** One decision to trace: for whom, what was asked, what was answered. */
export interface Decision {
  ctx: TraceContext;
  request: Record<string, unknown>;
  reply: Reply | Refusal;
  message?: TraceMessage;
}

export function traceDecision(
  traces: TraceLog,
  log: Logger,
  ctx: TraceContext,
  request: Record<string, unknown>,
  reply: Reply | Refusal,
  message?: TraceMessage,
): void {
  traceDecisions(traces, log, [{ ctx, request, reply, ...(message ? { message } : {}) }]);
}

/** Several decisions (the outbound gate's per-recipient outcomes of one message) in one trace write. */
export function traceDecisions(traces: TraceLog, log: Logger, decisions: readonly Decision[]): void {
  try {
    traces.writeAll(
      decisions.map(({ ctx, request, reply, message }) => ({
        action: ACTION[ctx.service],
        actor: ctx.peer ? { id: ctx.peer, kind: 'peer', source: 'tls-certificate' } : { id: 'unknown', kind: 'peer' },
        means: { service: ctx.service },
        ...(ctx.address ? { address: ctx.address } : {}),
        request,
        response: { ok: reply.code < 400, code: ('reason' in reply ? reply.reason : undefined) ?? String(reply.code), message: formatReply(reply) },
        ...(message ? { message } : {}),
      })),
    );
  } catch (err) {
    // A trace that cannot be written must not change the answer given for a message
    // Postfix already holds; it is an operational alarm.
    log.error({ err, code: 'TRACE_WRITE_FAILED' }, 'functional trace could not be written');
  }
  for (const { ctx, request, reply } of decisions) {
    if (reply.code < 400) continue;
    const reason = 'reason' in reply ? reply.reason : undefined;
    log.info({ reason, reply: formatReply(reply), peer: ctx.peer, address: ctx.address, ...request }, `${ctx.service} refused: ${formatReply(reply)}`);
  }
}
