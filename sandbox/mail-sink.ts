// Where the sandbox's inbound gates deliver when Postfix is not installed: an SMTP server
// on loopback that speaks like the gate's Postfix listener (XCLIENT from the gate, a queue
// id in the final reply) and keeps each message as a file, so the self-check can see what
// arrived without a real MTA.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export class MailSink {
  private readonly server: SMTPServer;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      useXClient: ['127.0.0.1'],
      hideDSN: false,
      disableReverseLookup: true,
      logger: false,
      onData: (stream, session, cb) => {
        const id = randomBytes(5).toString('hex').toUpperCase();
        const file = path.join(dir, `${Date.now()}-${id}.eml`);
        const out = fs.createWriteStream(file);
        stream.pipe(out);
        out.on('finish', () => cb(null, `2.0.0 Ok: queued as ${id}`));
        out.on('error', (err) => cb(Object.assign(err, { responseCode: 451 })));
        void session;
      },
    });
  }

  async start(port: number, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  /** Files of the messages received, oldest first. */
  delivered(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
