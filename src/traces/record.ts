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

/** Nesting kept in a trace, and the characters kept of a string (longer ones are cut): sanitize and clean share them. */
const MAX_DEPTH = 8;
const MAX_STRING = 4096;

/** A copy of `value` with secret and content fields replaced by "[redacted]". */
export function sanitize(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return '[truncated]';
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
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

/**
 * Whether sanitize(value, depth) would return the same data: no secret or content key, no
 * string over the bound, no nesting past it, only plain objects and arrays (whose JSON is
 * their own fields and items: not a Date, nor a class or an Array subclass with toJSON), no
 * undefined field.
 */
function clean(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof value === 'string') return value.length <= MAX_STRING;
  if (typeof value !== 'object' || value === null) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!clean(value[i], depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  for (const k of Object.keys(object)) {
    const v = object[k];
    if (v === undefined || isSecretKey(k) || !clean(v, depth + 1)) return false;
  }
  return true;
}

/**
 * sanitize(value), without the copy when there is nothing to redact, cut or leave out:
 * then `value` itself, whose JSON is the copy's (issue 20: the milter sanitises a trace per
 * message, whose parts almost never need it). EX_GDT_5040: the same checks apply to every
 * part, whoever built it; a caller must not change what it passed until the trace is written.
 */
export function sanitized(value: unknown): unknown {
  return clean(value, 0) ? value : sanitize(value);
}
