// A remote connector as the inbound gate sees it: a raw SMTP client that does STARTTLS with
// a certificate of the test PKI (or none), so tests read the exact replies of each step.
import fs from 'node:fs';
import type tls from 'node:tls';
import { MSS_TLS12_CIPHERS } from '../../src/pki/tls-profile.js';
import { SmtpClient, type RawReply } from './smtp-client.js';

export interface Identity {
  cert: string;
  key: string;
  /** Extra PEM certificates sent after the leaf (a peer's own chain). */
  chain?: string[];
}

export async function connectTls(
  host: string,
  port: number,
  who: Identity | undefined,
  extra: tls.ConnectionOptions = {},
): Promise<{ c: SmtpClient; afterTls: RawReply }> {
  const c = await SmtpClient.connect(port, host);
  await c.command('EHLO remote.test');
  const certPem = who ? fs.readFileSync(who.cert, 'utf8') + (who.chain ?? []).join('') : undefined;
  await c.startTls({ ...(who ? { cert: certPem, key: fs.readFileSync(who.key, 'utf8') } : {}), ciphers: MSS_TLS12_CIPHERS.join(':'), ...extra });
  // The gate judges the certificate once the handshake is over: the first reply says.
  const afterTls = await c.command('EHLO remote.test');
  return { c, afterTls };
}

/** MAIL, RCPTs and DATA; the replies of each step. */
export async function send(c: SmtpClient, from: string, to: string[], body: string): Promise<{ mail: RawReply; rcpts: RawReply[]; data?: RawReply }> {
  const mail = await c.command(`MAIL FROM:<${from}>`);
  const rcpts: RawReply[] = [];
  if (mail.code !== 250) return { mail, rcpts };
  for (const t of to) rcpts.push(await c.command(`RCPT TO:<${t}>`));
  if (!rcpts.some((r) => r.code === 250)) return { mail, rcpts };
  const [, data] = await c.data(body);
  return { mail, rcpts, data };
}
