// What one functional trace holds (EX_GDT_5040): the action, the authenticated author and
// on whose behalf they acted, the UTC time to the millisecond, the technical means, the
// network address, the request and the system's response (failures included), and for
// a message its identifier, addresses, Subject and size (EX_GDT_5050) — never its content,
// never a token, password or key (EX_GDT_5040: "le contenu des messages n'est pas tracé").

export type TraceCategory = 'functional' | 'technical';

export interface TraceActor {
  /** IdNat of a user, admin name, application/structure id, or "system:<job>". */
  id: string;
  kind: 'user' | 'admin' | 'application' | 'system' | 'peer';
  /** A delegate acts on behalf of a holder, responsible or co-holder (EX_GDT_5030). */
  onBehalfOf?: string;
  /** How the identity was established (e.g. "unix" user, "--actor" flag, "psc" token). */
  source?: string;
}

export interface TraceMeans {
  /** The sidecar service that acted (auth, submission, gate-in, cli, lifecycle...). */
  service?: string;
  /** Mail client / software as announced (NIL, User-Agent, X-Mailer). */
  client?: string;
  nil?: string;
  os?: string;
  /** EX_GDT_5060: PSC/XOAUTH2, AUTH-CLI certificate... */
  authType?: string;
}

export interface TraceMessage {
  id: string;
  from: string;
  to: string[];
  subject?: string;
  size?: number;
}

export interface TraceInput {
  action: string;
  category?: TraceCategory;
  actor: TraceActor;
  /** The BAL concerned, when there is one. */
  bal?: string;
  means?: TraceMeans;
  /** Network address of the client (IP or IP:port). */
  address?: string;
  request?: Record<string, unknown>;
  response: { ok: boolean; code?: string; message?: string } & Record<string, unknown>;
  message?: TraceMessage;
}

export interface TraceRecord extends TraceInput {
  id: string;
  at: string;
  category: TraceCategory;
}

// Keys whose values never reach a trace, whatever a caller passes in.
const SECRET_KEYS =
  /^(token|access_?token|refresh_?token|id_?token|bearer|password|passwd|secret|client_?secret|private_?key|key|authorization|cookie|body|content|text|html|attachments?|raw)$/i;

/**
 * Whether a key is a secret's, remembered for the keys seen (the traces' own field names,
 * a few dozen; bounded so that callers' arbitrary keys cannot grow it): the milter
 * sanitises a trace per message (issue 20).
 */
const secretKey = new Map<string, boolean>();
const SECRET_KEY_MEMORY = 512;

function isSecretKey(k: string): boolean {
  let secret = secretKey.get(k);
  if (secret === undefined) {
    secret = SECRET_KEYS.test(k);
    if (secretKey.size < SECRET_KEY_MEMORY) secretKey.set(k, secret);
  }
  return secret;
}

/** A copy of `value` with secret and content fields replaced by "[redacted]". */
export function sanitize(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (typeof value === 'string') return value.length > 4096 ? `${value.slice(0, 4096)}…` : value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = sanitize(value[i], depth + 1);
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const object = value as Record<string, unknown>;
    for (const k of Object.keys(object)) {
      const v = object[k];
      if (v === undefined) continue;
      out[k] = isSecretKey(k) ? '[redacted]' : sanitize(v, depth + 1);
    }
    return out;
  }
  return value;
}
