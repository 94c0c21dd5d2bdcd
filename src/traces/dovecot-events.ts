// What a Dovecot event becomes in the functional traces (§6.9.2, EX_GDT_5030: « tous les
// traitements opérés sur les BAL … et leur contenu », EX_GDT_5040, and « connexion et
// déconnexion »). Dovecot 2.3's event exporter posts JSON objects (dovecot/conf.d/
// 91-mss-mail-log.conf): an IMAP command that changes or reads the mailbox, a message
// expunged, the end of a session. Each becomes one trace: the mailbox (Dovecot's user), the
// operation, the folder, the message UIDs, the request as sent and Dovecot's answer, the
// client's address, and who acted — the identity our checker authorised for that Dovecot
// session (a delegate acting for a holder says so), else Dovecot's user. The message itself
// is never traced (EX_GDT_5040); APPEND's literal arrives as « <N byte literal> ».
import { z } from 'zod';
import type { TraceActor, TraceInput } from './record.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One exported event (format = json): only the fields read here are typed. */
export const dovecotEventSchema = z.object({
  event: z.string().max(100),
  hostname: z.string().max(255).optional(),
  start_time: z.string().max(64).optional(),
  end_time: z.string().max(64).optional(),
  categories: z.array(z.string().max(100)).max(50).optional(),
  fields: z.record(z.string().max(100), z.union([scalar, z.array(scalar).max(50)])).default({}),
});
export type DovecotEvent = z.output<typeof dovecotEventSchema>;

/** Who logged in for a Dovecot session, as the checker recorded it at login (Activity). */
export interface SessionIdentity {
  identity: string;
  kind: 'user' | 'application';
  /** For a delegate: the holder, responsible or co-holder acted for. */
  delegateOf?: string;
  authType?: string;
  client?: string;
}

/** IMAP command → the trace's action. FETCH counts only when it reads a message body. */
const COMMANDS: Readonly<Record<string, string>> = {
  APPEND: 'content.append',
  COPY: 'content.copy',
  MOVE: 'content.move',
  STORE: 'content.flags',
  EXPUNGE: 'content.expunge',
  CLOSE: 'content.expunge',
  FETCH: 'content.read',
  CREATE: 'folder.create',
  DELETE: 'folder.delete',
  RENAME: 'folder.rename',
};

const text = (v: unknown, max = 1000): string | undefined => (typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' ? String(v) : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** `[COPYUID 1796543329 1:2 5:6]` / `[APPENDUID 1796543328 1]`: the message identifiers in the answer. */
function uidCodes(reply: string | undefined): Record<string, unknown> {
  const copy = reply ? /\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]/.exec(reply) : null;
  if (copy) return { uidValidity: Number(copy[1]), sourceUids: copy[2], destinationUids: copy[3] };
  const append = reply ? /\[APPENDUID (\d+) ([\d:,]+)\]/.exec(reply) : null;
  if (append) return { uidValidity: Number(append[1]), uids: append[2] };
  return {};
}

function actorOf(user: string, who: SessionIdentity | undefined): TraceActor {
  if (!who) return { id: user, kind: 'user', source: 'dovecot user (no login recorded for this session)' };
  return { id: who.identity, kind: who.kind, ...(who.delegateOf ? { onBehalfOf: who.delegateOf } : {}), source: 'dovecot session' };
}

/** The trace of one event, or undefined for what is not an operation on a mailbox (a FETCH of flags, an event without user). */
export function traceOfDovecotEvent(ev: DovecotEvent, who: SessionIdentity | undefined): TraceInput | undefined {
  const f = ev.fields;
  const user = text(f.user, 256)?.toLowerCase();
  if (!user) return undefined;
  const service = (ev.categories ?? []).find((c) => c.startsWith('service:'))?.slice('service:'.length) ?? 'dovecot';
  const session = text(f.session, 64);
  const base = {
    bal: user,
    actor: actorOf(user, who),
    means: { service, ...(who?.authType ? { authType: who.authType } : {}), ...(who?.client ? { client: who.client } : {}) },
    ...(text(f.remote_ip, 64) ? { address: text(f.remote_ip, 64) as string } : {}),
  };
  const at = ev.end_time ?? ev.start_time;
  switch (ev.event) {
    case 'imap_command_finished': {
      const command = text(f.cmd_name, 64) ?? '';
      const verb = command.replace(/^UID /, '');
      const action = COMMANDS[verb];
      if (!action) return undefined;
      if (verb === 'FETCH' && !list(f.reason_code).includes('imap:fetch_body')) return undefined;
      const state = text(f.tagged_reply_state, 16);
      const reply = text(f.tagged_reply, 300);
      const mailbox = text(f.mailbox, 512);
      return {
        ...base,
        action,
        request: {
          at,
          session,
          command,
          args: text(f.cmd_human_args ?? f.cmd_args),
          ...(mailbox !== undefined ? { mailbox } : {}),
          ...(verb === 'RENAME' ? { from: text(f.old_mailbox, 512), to: text(f.new_mailbox, 512) } : {}),
          // UID commands name the messages by UID; others by sequence number (as sent).
          ...(command.startsWith('UID ') ? { uids: (text(f.cmd_args) ?? '').split(' ')[0] } : {}),
          ...uidCodes(reply),
        },
        response: { ok: state === 'OK', ...(state !== 'OK' ? { code: state ?? 'unknown' } : {}), ...(reply ? { message: reply } : {}) },
      };
    }
    case 'mail_expunged':
      return {
        ...base,
        action: 'content.expunged',
        request: { at, session, mailbox: text(f.mailbox, 512), uid: f.uid, ...(text(f.cmd_name, 64) ? { command: text(f.cmd_name, 64) } : {}) },
        response: { ok: true },
      };
    case 'mail_user_session_finished':
      return {
        ...base,
        action: 'logout',
        request: { at, session, durationMs: typeof f.duration === 'number' ? Math.round(f.duration / 1000) : undefined },
        response: { ok: true },
      };
    default:
      return undefined;
  }
}
