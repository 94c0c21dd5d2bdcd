// Who is acting, for the traces of administration commands (EX_SSI_5150). The CLI relies
// on the system's authentication of the operator (SSH login, sudo): it records the Unix
// user (and the user behind sudo). `--actor NAME` names the person when a shared service
// account runs the command; the Unix identity is recorded next to it, since the flag
// itself is a claim, not an authentication.
import os from 'node:os';
import type { TraceActor, TraceMeans } from '../traces/record.js';

export function resolveActor(flag?: string): TraceActor {
  const unix = safeUser();
  const sudo = process.env.SUDO_USER;
  const who = sudo && sudo !== unix ? `${sudo} (sudo as ${unix})` : unix;
  if (flag?.startsWith('system:')) return { id: flag, kind: 'system', source: `unix user ${who}` };
  if (flag) return { id: `admin:${flag}`, kind: 'admin', source: `--actor, unix user ${who}` };
  return { id: `admin:${sudo ?? unix}`, kind: 'admin', source: sudo ? `sudo, unix user ${unix}` : 'unix user' };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`;
  }
}

/** EX_GDT_5040: the technical means and network address of an administration command. */
export function cliMeans(): { means: TraceMeans; address?: string } {
  const from = process.env.SSH_CLIENT?.split(' ')[0];
  return { means: { service: 'cli', os: `${os.type()} ${os.release()}` }, ...(from ? { address: from } : {}) };
}
