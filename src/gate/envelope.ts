// MAIL FROM and RCPT TO as the gates forward them: the address and the ESMTP parameters
// worth keeping from one hop to the next (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8,
// RFC 3461 DSN), each only when the next hop announced the extension.
import type { SMTPServerAddress } from 'smtp-server';

type Args = Record<string, string | true>;

function argsOf(a: SMTPServerAddress): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(a.args as Record<string, unknown>)) if (typeof v === 'string' || v === true) out[k.toUpperCase()] = v;
  return out;
}

const param = (k: string, v: string | true | undefined): string => (v === undefined ? '' : v === true ? ` ${k}` : ` ${k}=${v}`);

/** `MAIL FROM:<a> SIZE=… BODY=… SMTPUTF8 RET=… ENVID=…`, for a next hop with these EHLO keywords. */
export function mailCommand(from: SMTPServerAddress | { address: string; args: object }, has: (keyword: string) => boolean, size?: number): string {
  const args = argsOf(from as SMTPServerAddress);
  let line = `MAIL FROM:<${from.address}>`;
  if (has('SIZE') && (size !== undefined || args.SIZE)) line += param('SIZE', size !== undefined ? String(size) : args.SIZE);
  if (has('8BITMIME')) line += param('BODY', args.BODY);
  if (has('SMTPUTF8')) line += param('SMTPUTF8', args.SMTPUTF8);
  if (has('DSN')) line += param('RET', args.RET) + param('ENVID', args.ENVID);
  return line;
}

export function rcptCommand(to: SMTPServerAddress | { address: string; args: object }, has: (keyword: string) => boolean): string {
  const args = argsOf(to as SMTPServerAddress);
  let line = `RCPT TO:<${to.address}>`;
  if (has('DSN')) line += param('NOTIFY', args.NOTIFY) + param('ORCPT', args.ORCPT);
  return line;
}

/** Does this transaction need the next hop to support SMTPUTF8 (RFC 6531 §3.4)? */
export function needsSmtputf8(from: SMTPServerAddress | { args: object }): boolean {
  return argsOf(from as SMTPServerAddress).SMTPUTF8 === true;
}
