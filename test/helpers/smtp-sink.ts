// An SMTP server on loopback that keeps what it receives: the "outside" mailbox that
// lifecycle notices are sent to (smtp-server, in the test process).
import { SMTPServer } from 'smtp-server';
import { freePort } from './ports.js';

export interface SinkMessage {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpSink {
  port: number;
  messages: SinkMessage[];
  /** Answer 451 to every message while true. */
  failing: boolean;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const port = await freePort();
  const sink: SmtpSink = { port, messages: [], failing: false, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        if (sink.failing) {
          const err = Object.assign(new Error('try again later'), { responseCode: 451 });
          callback(err);
          return;
        }
        sink.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  sink.close = () => new Promise((resolve) => server.close(() => resolve()));
  return sink;
}

/** The decoded text body of a message (nodemailer sends quoted-printable for accents). */
export function bodyOf(data: string): string {
  const body = data
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join('\n\n');
  if (!/Content-Transfer-Encoding: quoted-printable/i.test(data)) return body;
  const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A header, unfolded, with RFC 2047 encoded words decoded. */
export function headerOf(data: string, name: string): string | undefined {
  const head = data.split(/\r?\n\r?\n/)[0] ?? '';
  const m = new RegExp(`^${name}:(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
  if (!m) return undefined;
  const raw = (m[1] ?? '').replace(/\r?\n[ \t]/g, ' ').trim();
  return raw.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}
