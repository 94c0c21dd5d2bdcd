// An exchange between two operators as their users make it, for the end-to-end self-check
// step and test: an LPS logs in on its operator's submission front with a PSC token and
// sends a message carrying the statistics headers; the recipient's holder logs in on the
// other operator's IMAP front and reads it. Plus what both sides then hold: mail files and
// journal events.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config/schema.js';
import type { JournalEvent } from '../src/journal/events.js';
import { Journal } from '../src/journal/journal.js';
import { openStore } from '../src/store/open.js';
import { imapFetchBySubject, imapXoauth2Login, smtpSend, smtpXoauth2Login, type SendOutcome } from './lps-client.js';

/** The X-MSS-* statistics headers an LPS sends (§6.9.3.1.1: INS, CODECDA, NIL columns of Echanges). */
export const STATS_HEADERS = { ins: 'O', codeCda: '11488-4', nil: '<sandbox-lps/2.1>' } as const;

/** A message as an LPS writes it: From is the mailbox logged into, with the X-MSS-* headers. */
export function lpsMessage(from: string, to: readonly string[], subject: string): string {
  return [
    `From: <${from}>`,
    `To: ${to.map((t) => `<${t}>`).join(', ')}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@lps.sandbox.test>`,
    `X-MSS-INS: ${STATS_HEADERS.ins}`,
    `X-MSS-CODECDA: ${STATS_HEADERS.codeCda}`,
    `X-MSS-NIL: ${STATS_HEADERS.nil}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Compte rendu de consultation (message de test du sandbox mss-sidecar).',
    '',
  ].join('\r\n');
}

/** Log in as `mailbox` with `token` on a submission front and send one message; the replies of each step. */
export async function lpsSend(
  port: number,
  mailbox: string,
  token: string,
  to: readonly string[],
  subject: string,
  localAddress?: string,
): Promise<{ login: string; sent?: SendOutcome }> {
  const login = await smtpXoauth2Login(port, mailbox, token, { keepOpen: true, ...(localAddress ? { localAddress } : {}) });
  if (login.verdict !== 'OK') return { login: login.line };
  try {
    return { login: login.line, sent: await smtpSend(login.connection, mailbox, to, lpsMessage(mailbox, to, subject)) };
  } finally {
    login.connection.send('QUIT');
    login.connection.destroy();
  }
}

/** Log in as `mailbox` with `token` on an IMAP front and fetch the message whose Subject contains `subject`. */
export async function lpsRead(
  port: number,
  mailbox: string,
  token: string,
  subject: string,
  localAddress?: string,
): Promise<{ login: string; message?: string }> {
  const login = await imapXoauth2Login(port, mailbox, token, { keepOpen: true, ...(localAddress ? { localAddress } : {}) });
  if (login.verdict !== 'OK') return { login: login.line };
  try {
    const message = await imapFetchBySubject(login.connection, subject);
    return { login: login.line, ...(message !== undefined ? { message } : {}) };
  } finally {
    login.connection.send('z LOGOUT');
    login.connection.destroy();
  }
}

/** The messages under `dir`: maildir files (in new/ and cur/, not Dovecot's indexes) or a sink's .eml files. */
export function mailFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && (/\/(new|cur)$/.test(e.parentPath) || e.name.endsWith('.eml')))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** The messages under `dir` (mailFiles) that contain `marker`, once there is one; [] after `ms`. */
export async function waitForMail(dir: string, marker: string, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hits = mailFiles(dir).filter((f) => fs.readFileSync(f, 'utf8').includes(marker));
    if (hits.length > 0 || Date.now() > deadline) return hits;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An operator's journal events of the last hour (its state store, as `serve` writes it). */
export async function recentJournal(config: Pick<Config, 'state'>): Promise<JournalEvent[]> {
  const store = openStore(config.state);
  try {
    const out: JournalEvent[] = [];
    for await (const e of new Journal(store).read({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) })) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}
