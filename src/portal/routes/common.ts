// What the routes share: the signed-in check, the page frame of a signed-in request (its
// CSRF token, the message left by the previous action).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../respond.js';
import type { Chrome, Section } from '../pages/layout.js';
import type { SessionUser } from '../session/policy.js';
import { T } from '../texts.js';

/** preHandler: a signed-in session, or back to the sign-in page (a stale cookie says why). */
// EX_SSI_5130: nothing but the sign-in page and the stylesheet without an authenticated professional.
export async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.session.user) return;
  if (req.cookies[SESSION_COOKIE] && !req.session.flash) req.session.flash = { kind: 'error', text: T.home.expired };
  await reply.redirect('/', 303);
}

export function userOf(req: FastifyRequest): SessionUser {
  const user = req.session.user;
  if (!user) throw new Error('requireUser did not run');
  return user;
}

/** The frame of a signed-in page; consumes the flash message. */
export function chromeOf(req: FastifyRequest, reply: FastifyReply, operatorName: string, title: string, section?: Section): Chrome & { csrf: string } {
  const user = userOf(req);
  const flash = req.session.flash;
  if (flash) delete req.session.flash;
  return {
    title,
    operatorName,
    user: { idNat: user.idNat, ...(user.name ? { name: user.name } : {}) },
    csrf: reply.generateCsrf(),
    ...(flash ? { flash } : {}),
    ...(section ? { section } : {}),
  };
}
