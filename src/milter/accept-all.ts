// The handler the milter runs until the submission rules exist: it lets everything through
// and logs one line per message, so an operator can see the milter is in the path (queue id,
// envelope, authenticated login, size) before any rule is switched on.
import type { Logger } from '../log.js';
import type { MilterHandler } from './handler.js';

export function acceptAllHandler(log: Logger): MilterHandler {
  return {
    addsHeaders: false,
    eom(ctx) {
      const m = ctx.message;
      log.info(
        {
          milter: ctx.id,
          queueId: ctx.queueId,
          client: ctx.macros.get('client_addr') ?? ctx.client?.address,
          login: ctx.macros.get('auth_authen'),
          sender: m.sender?.address,
          recipients: m.recipients.map((r) => r.address),
          size: m.headerBytes + m.bodyBytes,
        },
        'message accepted by the milter (no submission rules configured)',
      );
    },
  };
}
