// SMTP submission on the AUTH-CLI entry point (TM5.4P, EX_LPS_1200). Until login the front
// relays the LPS's commands to Postfix, except STARTTLS (done by the front on both sides;
// the LPS's certificate is checked here) and AUTH PLAIN / AUTH LOGIN (answered by the front,
// replayed to Postfix with a one-time ticket). The EHLO keywords offer AUTH PLAIN LOGIN
// after STARTTLS and no AUTH before. After login, bytes flow untouched.
import { base64Text, plainLogin, plainResponse } from './credentials.js';
import { AuthCliSession } from './session-base.js';

/** EX_LPS_0710: the SMTP refusal of RFC 4954. */
const FAILED = '535 5.7.8 Authentication credentials invalid';
const UNAVAILABLE = '454 4.7.0 Temporary authentication failure';

/** An EHLO reply with our AUTH keyword (after TLS) or none (before). */
export function rewriteEhlo(lines: string[], tls: boolean): string[] {
  const texts = lines.map((l) => l.slice(4)).filter((t, i) => i === 0 || !/^AUTH[ =]/i.test(t));
  if (tls) texts.push('AUTH PLAIN LOGIN');
  const code = lines[0]?.slice(0, 3) ?? '250';
  return texts.map((t, i) => `${code}${i === texts.length - 1 ? ' ' : '-'}${t}`);
}

export class SmtpAuthCliSession extends AuthCliSession {
  async run(): Promise<void> {
    const backend = await this.connectBackend();
    if (!backend) return this.goodbye('421 4.3.2 Service temporarily unavailable', 'backend-unavailable');
    const greeting = await this.reply();
    if (!greeting) return this.goodbye('421 4.3.2 Service temporarily unavailable', 'backend-unavailable');
    this.send(greeting);

    for (;;) {
      const line = await this.client.line();
      if (line === undefined) return this.end('client');
      const verb = (/^(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
      if (verb === 'STARTTLS') {
        if (!(await this.startTls())) return;
        continue;
      }
      if (verb === 'AUTH') {
        if (await this.login(line.slice(5).trim())) return;
        continue;
      }
      backend.write(`${line}\r\n`);
      const reply = await this.reply();
      if (!reply) return this.end('backend');
      this.send(verb === 'EHLO' && reply[0]?.startsWith('250') ? rewriteEhlo(reply, this.client.isTls) : reply);
      if (verb === 'QUIT') return this.goodbye(undefined, 'client');
    }
  }

  /** One (possibly multi-line) reply of the backend. */
  private async reply(): Promise<string[] | undefined> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.backend?.line();
      if (line === undefined) return undefined;
      lines.push(line);
      if (!/^\d{3}-/.test(line)) return lines;
    }
  }

  private send(lines: string[]): void {
    this.client.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  private async startTls(): Promise<boolean> {
    if (this.client.isTls) {
      this.client.write('503 5.5.1 TLS already active\r\n');
      return true;
    }
    this.backend?.write('STARTTLS\r\n');
    const reply = await this.reply();
    if (!reply?.[0]?.startsWith('220')) {
      this.goodbye('421 4.3.2 Service temporarily unavailable', 'backend-unavailable');
      return false;
    }
    this.client.write('220 2.0.0 Ready to start TLS\r\n');
    // RFC 3207: the client starts over with EHLO, which the front passes on to Postfix.
    return this.upgradeBoth('421 4.7.0 Client certificate refused');
  }

  /** AUTH PLAIN / AUTH LOGIN: true when the session was handed over to the relay (or ended). */
  private async login(args: string): Promise<boolean> {
    if (!this.client.isTls || !this.cert?.ok) {
      this.client.write('530 5.7.0 Must issue a STARTTLS command first\r\n');
      return false;
    }
    const [mech = '', initial] = args.split(' ');
    let mailbox: string | undefined;
    if (mech.toUpperCase() === 'PLAIN') {
      const response = initial ?? (await this.challenge(''));
      if (response === undefined) return true;
      if (response === '*') return this.aborted();
      mailbox = plainLogin(response);
    } else if (mech.toUpperCase() === 'LOGIN') {
      const user = initial ?? (await this.challenge('VXNlcm5hbWU6'));
      if (user === undefined) return true;
      if (user === '*') return this.aborted();
      const password = await this.challenge('UGFzc3dvcmQ6');
      if (password === undefined) return true;
      if (password === '*') return this.aborted();
      mailbox = base64Text(user);
    } else {
      this.client.write('504 5.5.4 Only PLAIN and LOGIN are offered on this entry point\r\n');
      return false;
    }
    if (!mailbox) {
      this.client.write(`${FAILED}\r\n`);
      return false;
    }
    const admission = await this.admit(mailbox);
    if (!admission.ok) {
      this.client.write(`${admission.temporary ? UNAVAILABLE : FAILED}\r\n`);
      return false;
    }
    this.backend?.write(`AUTH PLAIN ${plainResponse(mailbox.trim().toLowerCase(), admission.ticket)}\r\n`);
    const reply = await this.reply();
    if (!reply) {
      this.end('backend');
      return true;
    }
    this.send(reply);
    if (!reply[0]?.startsWith('235')) return false;
    this.relay();
    return true;
  }

  /** A 334 challenge and the client's answer (undefined: the client left). */
  private async challenge(text: string): Promise<string | undefined> {
    this.client.write(`334 ${text}\r\n`);
    const line = await this.client.line();
    if (line === undefined) this.end('client');
    return line;
  }

  private aborted(): false {
    this.client.write('501 5.7.0 Authentication aborted\r\n');
    return false;
  }
}
