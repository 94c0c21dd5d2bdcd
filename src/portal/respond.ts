// Small pieces every route uses: sending a page, naming the signed-in professional for the
// traces, writing the portal's own functional traces, the session cookie's name.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { EditWho } from './registry/edit-protocol.js';

/** `__Host-`: Secure, Path=/, no Domain — a cookie no sibling host can set or read. */
export const SESSION_COOKIE = '__Host-mss-portail';

export function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** The signed-in professional, for the traces of what they do (EX_GDT_5030, EX_GDT_5040). */
export function whoOf(req: FastifyRequest, idNat: string): EditWho {
  const agent = req.headers['user-agent'];
  return {
    actor: { id: idNat, kind: 'user', source: 'psc (portal session)' },
    means: { service: 'portal', authType: 'PSC/OIDC', ...(typeof agent === 'string' ? { client: agent.slice(0, 200) } : {}) },
    address: req.ip,
  };
}

/** A functional trace of the portal itself (sign-in, sign-out, refused forms). */
export function trace(
  deps: { traces: TraceLog; log: Logger },
  action: string,
  req: FastifyRequest,
  idNat: string | undefined,
  response: { ok: boolean; code?: string; message?: string } & Record<string, unknown>,
  request?: Record<string, unknown>,
): void {
  const who = whoOf(req, idNat ?? 'unknown');
  try {
    deps.traces.write({
      action,
      actor: idNat ? who.actor : { id: 'unknown', kind: 'user', source: 'no portal session' },
      means: who.means,
      ...(who.address ? { address: who.address } : {}),
      ...(request ? { request } : {}),
      response,
    });
  } catch (err) {
    deps.log.error({ err, action }, 'portal: could not write a trace');
  }
}
