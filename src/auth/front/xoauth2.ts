// The XOAUTH2 client response (Google's XOAUTH2 mechanism, the format of EX_LPS_0900 steps
// 2–4): base64 of `user=<mailbox>^Aauth=Bearer <token>^A^A`.

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type Xoauth2Response = { ok: true; user: string; token: string } | { ok: false; reason: 'base64' | 'format' };

/** EX_LPS_0900 steps 2–4: decode the base64, take the mailbox from `user=` and the token from `auth=Bearer`. */
export function parseXoauth2(base64: string): Xoauth2Response {
  if (!BASE64.test(base64)) return { ok: false, reason: 'base64' };
  const text = Buffer.from(base64, 'base64').toString('utf8');
  // `^A^A` ends the message; fields are `^A`-separated `key=value` pairs.
  if (!text.endsWith('\x01\x01')) return { ok: false, reason: 'format' };
  const fields = new Map<string, string>();
  for (const field of text.slice(0, -2).split('\x01')) {
    const eq = field.indexOf('=');
    if (eq <= 0 || fields.has(field.slice(0, eq))) return { ok: false, reason: 'format' };
    fields.set(field.slice(0, eq), field.slice(eq + 1));
  }
  const user = fields.get('user');
  const bearer = /^Bearer +(\S+)$/i.exec(fields.get('auth') ?? '');
  if (!user || !bearer?.[1]) return { ok: false, reason: 'format' };
  return { ok: true, user, token: bearer[1] };
}

/** The client response for `user` and `token`, as an LPS (or the front, with a ticket) sends it. */
export function xoauth2Response(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}
